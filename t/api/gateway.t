# The identity gateway as the module meets it (API.md, "Gateway protocol"
# and "Sandbox"): the sandbox takes only requests signed with the shared
# secret and a timestamp within 300 s; a gateway that answers `error`, or
# answers later than CNCAGatewayTimeout (2 s here; the sandbox's late
# persons wait 4 s), is a gateway_error for the applicant within the
# timeout plus a second, never a pass, with an audit row and an operator's
# line in the error_log.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaFlow qw(luhn_card);
use Digest::SHA ();
use Encode ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use Time::HiRes ();

my $since = time;
my $log_from = error_log_offset();
my $TIMEOUT = 2;    # CNCAGatewayTimeout of the main server
my (@mobiles, @ids, @codes);

# ----------------------------------------------------------------------
# the sandbox refuses what is not signed, or signed too long ago
my $secret = gateway_secret();
my $ua = LWP::UserAgent->new(timeout => 10);
my $sms_to = mobile('139');
push @mobiles, $sms_to;

sub uuid {
    my $h = join '', map { sprintf '%02x', int(rand(256)) } 1 .. 16;
    substr($h, 12, 1) = '4';
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4),
        substr($h, 20);
}

sub sms_request {
    my ($id, $text) = @_;
    my $xml = qq{<?xml version="1.0" encoding="UTF-8"?>\n}
        . qq{<gateway-request xmlns="urn:cnca:gateway:1" id="$id" type="sms-send">}
        . qq{<mobile>$sms_to</mobile><text>$text</text></gateway-request>};
    return Encode::encode('UTF-8', $xml);
}

sub sign {
    my ($ts, $body, $key) = @_;
    return Digest::SHA::hmac_sha256_hex("$ts\n$body", $key // $secret);
}

# POST /sandbox/gateway; %h: timestamp, signature (undef: header left out).
sub gw_post {
    my ($body, %h) = @_;
    my $req = HTTP::Request->new(POST => sandbox_url('/gateway'));
    $req->content_type('application/xml; charset=utf-8');
    $req->header('X-CNCA-Timestamp' => $h{timestamp}) if defined $h{timestamp};
    $req->header('X-CNCA-Signature' => $h{signature}) if defined $h{signature};
    $req->content($body);
    return $ua->request($req);
}

my $now = time;
my $id = uuid();
my $body = sms_request($id, '【大家签】签名正确');
my $r = gw_post($body, timestamp => $now, signature => sign($now, $body));
is($r->code, 200, 'sandbox: a signed request now: 200');
like($r->header('Content-Type') // '', qr{^application/xml}, 'an XML answer');
like($r->content, qr/<gateway-response\b[^>]*\bid="$id"/, 'answering its id');
like($r->content, qr/\bresult="pass"/, 'pass');

$body = sms_request(uuid(), '【大家签】大写签名');
$r = gw_post($body, timestamp => $now, signature => uc sign($now, $body));
is($r->code, 200, 'sandbox: the signature in uppercase hex: 200');

$body = sms_request(uuid(), '【大家签】两百秒前');
$r = gw_post($body, timestamp => $now - 200, signature => sign($now - 200, $body));
is($r->code, 200, 'sandbox: a timestamp 200 s old (within 300 s): 200');

my @refused = (
    ['no signature headers', 401, sub { () }],
    ['only a timestamp', 401, sub { (timestamp => $now) }],
    ['a signature with one hex digit changed', 403, sub {
        my $s = sign($now, $_[0]);
        substr($s, -1, 1) = substr($s, -1, 1) eq '0' ? '1' : '0';
        (timestamp => $now, signature => $s);
    }],
    ['a signature under another secret', 403,
        sub { (timestamp => $now, signature => sign($now, $_[0], 'not-the-shared-secret-at-all')) }],
    ['a signature over another timestamp', 403,
        sub { (timestamp => $now, signature => sign($now - 1, $_[0])) }],
    ['a timestamp 400 s old, signed', 403,
        sub { (timestamp => $now - 400, signature => sign($now - 400, $_[0])) }],
    ['a timestamp 400 s ahead, signed', 403,
        sub { (timestamp => $now + 400, signature => sign($now + 400, $_[0])) }],
    ['a timestamp that is not a number', 403,
        sub { (timestamp => 'yesterday', signature => sign('yesterday', $_[0])) }],
    ['an empty signature', 403, sub { (timestamp => $now, signature => '') }],
);
my $n = 0;
for my $case (@refused) {
    my ($label, $status, $headers) = @$case;
    $body = sms_request(uuid(), '【大家签】拒绝' . ++$n);
    $r = gw_post($body, $headers->($body));
    is($r->code, $status, "sandbox refuses $label: $status");
}
# the body changed after it was signed
$body = sms_request(uuid(), '【大家签】原文');
my $sig = sign($now, $body);
$r = gw_post(sms_request(uuid(), '【大家签】篡改'), timestamp => $now, signature => $sig);
is($r->code, 403, 'sandbox refuses a body changed after signing: 403');
my @texts = map { $_->{text} } @{ sms_list($sms_to) };
is(scalar @texts, 3, 'the sandbox stored the three signed requests only');
is(scalar(grep { /拒绝|篡改|原文/ } @texts), 0, 'none of the refused ones');

# ----------------------------------------------------------------------
# the module: forced error and forced lateness give gateway_error in time

# POST path body, timed; returns ($res, $data, $seconds).
sub timed_post {
    my ($c, $path, $b) = @_;
    my $t = Time::HiRes::time();
    my ($res, $data) = $c->post($path, $b);
    return ($res, $data, Time::HiRes::time() - $t);
}

sub gateway_error_ok {
    my ($res, $data, $secs, $label, %opt) = @_;
    is($res->code, 502, "$label: 502");
    is($data->{error}, 'gateway_error', "$label: gateway_error");
    is($data->{message}, '系统异常，请稍后重试！', "$label: the manual's message");
    ok($secs <= $TIMEOUT + 1, sprintf('%s: answered in %.2f s (at most %d s)', $label, $secs,
            $TIMEOUT + 1));
    if ($opt{late}) {
        ok($secs >= $TIMEOUT - 0.3, sprintf('%s: after the timeout (%.2f s), not at once', $label,
                $secs));
    }
}

sub applicant {
    my (%opt) = @_;
    my $c = client();
    my $who = apply_flow($c, %opt);
    push @mobiles, $who->{mobile};
    push @ids, $who->{id_number};
    return ($c, $who);
}

sub sms_for {
    my ($c, $mobile) = @_;
    return timed_post($c, '/sms', { mobile => $mobile, captcha => $c->captcha });
}

sub verify_mobile {
    my ($c, $mobile) = @_;
    my ($res) = $c->post('/sms', { mobile => $mobile, captcha => $c->captcha });
    die 'sms: ' . $res->code unless $res->code == 200;
    my $code = sms_code($mobile);
    push @codes, $code;
    return timed_post($c, '/verify/mobile', { sms_code => $code, agree => JSON::PP::true });
}

# sms-send answered `error` with the person's reason
my ($c, $who) = applicant();
sandbox_person($who->{mobile}, 'sms-send', 'error', 'sms-down', '短信通道故障');
gateway_error_ok(sms_for($c, $who->{mobile}), 'sms-send answers error');
is(scalar @{ sms_list($who->{mobile}) }, 0, 'no SMS stored');
is(audit_count(event => 'sms.send', outcome => 'error', since => $since,
        detail => '%' . substr($who->{mobile}, -4) . ' reason=sms-down%'), 1,
    'audit: sms.send error with the reason code');

# sms-send answered `fail`
($c, $who) = applicant();
sandbox_person($who->{mobile}, 'sms-send', 'fail');
gateway_error_ok(sms_for($c, $who->{mobile}), 'sms-send answers fail');
is(audit_count(event => 'sms.send', outcome => 'error', since => $since,
        detail => '%' . substr($who->{mobile}, -4) . ' reason=sms-failed%'), 1,
    'audit: sms.send error with the reason code');

# sms-send answered late
($c, $who) = applicant();
sandbox_person($who->{mobile}, 'sms-send', 'late');
gateway_error_ok(sms_for($c, $who->{mobile}), 'sms-send answers late', late => 1);
is(audit_count(event => 'gateway.sms-send', outcome => 'error', detail => 'timeout',
        since => $since), 1, 'audit: gateway.sms-send error (timeout)');
is(audit_count(event => 'sms.send', outcome => 'error', since => $since,
        detail => '%' . substr($who->{mobile}, -4)), 1, 'audit: sms.send error');

# mobile-3e answered `error`
($c, $who) = applicant(id_number => id_number());
sandbox_person($who->{id_number}, 'mobile-3e', 'error');
gateway_error_ok(verify_mobile($c, $who->{mobile}), 'mobile-3e answers error');
my $subject = CncaTest::id_hash($who->{id_number});
is(audit_count(event => 'proof.carrier', outcome => 'error', subject => $subject), 1,
    'audit: proof.carrier error');
is(audit_count(event => 'proof.carrier', outcome => 'pass', subject => $subject), 0,
    'no carrier proof');
is($c->session->{step}, 'apply-verify', 'the phone has not passed the SMS step');

# every check of a person answered `error` (the seeded sandbox person)
($c, $who) = applicant(id_number => '310101198001019020');
gateway_error_ok(verify_mobile($c, $who->{mobile}), "a '*' error person's mobile-3e");

# mobile-3e answered late
($c, $who) = applicant(id_number => id_number());
sandbox_person($who->{id_number}, 'mobile-3e', 'late');
gateway_error_ok(verify_mobile($c, $who->{mobile}), 'mobile-3e answers late', late => 1);
$subject = CncaTest::id_hash($who->{id_number});
is(audit_count(event => 'gateway.mobile-3e', outcome => 'error', detail => 'timeout',
        since => $since), 1, 'audit: gateway.mobile-3e error (timeout)');
is(audit_count(event => 'proof.carrier', outcome => 'error', subject => $subject), 1,
    'audit: proof.carrier error');
is(audit_count(event => 'proof.carrier', outcome => 'pass', subject => $subject), 0,
    'a late answer is no pass');
my $s = $c->session;
is($s->{step}, 'apply-verify', 'the phone has not passed the SMS step');

# bankcard-4e answered `error` (a 170 mobile fails the carrier: the bank step)
($c, $who) = applicant(id_number => id_number(), mobile => mobile('170'));
my ($res, $data) = verify_mobile($c, $who->{mobile});
is($data->{next}, 'bank', 'a 170 mobile: on to the bank step');
sandbox_person($who->{id_number}, 'bankcard-4e', 'error');
my $bank_mobile = mobile('139');
push @mobiles, $bank_mobile;
($res) = $c->post('/sms', { mobile => $bank_mobile, captcha => $c->captcha });
is($res->code, 200, 'a code for the bank-reserved mobile');
my $code = sms_code($bank_mobile);
push @codes, $code;
gateway_error_ok(timed_post($c, '/verify/bank', { card_number => luhn_card(),
            mobile => $bank_mobile, sms_code => $code, agree => JSON::PP::true }),
    'bankcard-4e answers error');
is(audit_count(event => 'proof.bank', outcome => 'error',
        subject => CncaTest::id_hash($who->{id_number})), 1, 'audit: proof.bank error');

# ----------------------------------------------------------------------
# the operator's error_log: a line for each failure, no personal data
open my $fh, '<:raw', CncaTest::error_log_path() or die;
seek $fh, $log_from, 0;
my $log = do { local $/; <$fh> };
close $fh;
like($log, qr/CNCA00041: gateway sms-send failed/, 'error_log: the sms-send timeout');
like($log, qr/CNCA00041: gateway mobile-3e failed/, 'error_log: the mobile-3e timeout');
like($log, qr/CNCA00042: gateway mobile-3e answered error/, 'error_log: the error answer');
like($log, qr/CNCA00614: .*refused/, 'error_log: the sandbox refusing a bad signature');
my $leaks = error_log_leaks($log_from, @mobiles, @ids, @codes);
is(scalar @$leaks, 0, 'no mobile, ID number or SMS code in the error_log')
    or diag(join("\n", @$leaks[0 .. ($#$leaks > 4 ? 4 : $#$leaks)]));
my @bad = grep {
    my $t = join(' ', map { $_ // '' } @$_);
    grep { $t =~ /(?<![0-9A-Za-z])\Q$_\E(?![0-9A-Za-z])/ } @mobiles, @ids, @codes
} @{ db()->selectall_arrayref('SELECT detail, subject FROM audit WHERE at >= ?', undef, $since) };
is(scalar @bad, 0, 'no full mobile, ID number or SMS code in the audit rows');

done_testing();
