# POST /sms and the SMS code of POST /verify/mobile (DESIGN.md
# non-negotiables): the code reaches the sandbox as the manual's text; no
# sooner than 60 s after the last one to a number, at most 5 an hour and
# 10 a day per number, a daily cap per client address, all counted in the
# database (a memcached restart resets nothing); five wrong codes void it; a
# right one works once, even when sent twice at the same moment; a dead
# memcached refuses and sends nothing; every event in the audit table and
# no code, mobile or ID number in the clear in the error_log or memcached.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaFlow qw(masked_mobile);
use JSON::PP ();
use Time::HiRes ();

my $since = time;
my $log_from = error_log_offset();
my (@answers, @codes, @mobiles, @ids);
my $TEXT = qr/^【大家签】您的验证码为([0-9]{6})，5分钟内有效，请勿泄露。$/;
my $OTHER = '192.0.2.1';    # the address the simulated earlier sends came from

sub sms_count { return scalar @{ sms_list($_[0]) } }
sub sends { return db_count('SELECT COUNT(*) FROM sms_sends WHERE mobile_hash = ?', otp_hash($_[0])) }

# A new phone standing at the captcha/SMS step of manual 3.1.
sub applicant {
    my (%opt) = @_;
    my $c = client(vhost => $opt{vhost}, from => $opt{from});
    my $who = apply_flow($c, mobile => $opt{mobile});
    push @mobiles, $who->{mobile};
    push @ids, $who->{id_number};
    return ($c, $who);
}

# POST /sms with a fresh captcha.
sub send_sms {
    my ($c, $mobile) = @_;
    my $answer = $c->captcha;
    push @answers, $answer;
    return $c->post('/sms', { mobile => $mobile, captcha => $answer });
}

sub verify {
    my ($c, $code) = @_;
    return $c->post('/verify/mobile', { sms_code => $code, agree => JSON::PP::true });
}

# The newest code the sandbox holds for mobile.
sub newest_code {
    my $code = sms_code($_[0]);
    push @codes, $code if defined $code;
    return $code;
}

# Earlier sends to mobile, AGES seconds ago (as if made by other requests).
sub earlier_sends {
    my ($mobile, @ages) = @_;
    my $dbh = db();
    my $now = time;
    $dbh->do('INSERT INTO sms_sends (at, mobile_hash, client) VALUES (?, ?, ?)', undef,
        $now - $_, otp_hash($mobile), $OTHER) for @ages;
    $dbh->disconnect;
}

# Makes the last send to mobile look SECONDS older (time passing).
sub age_sends {
    my ($mobile, $seconds) = @_;
    my $dbh = db();
    $dbh->do('UPDATE sms_sends SET at = at - ? WHERE mobile_hash = ?', undef, $seconds,
        otp_hash($mobile));
    $dbh->disconnect;
}

# A code that no longer exists (used, voided, never sent to this session or
# mobile): refused as expired (400) or as "get a code first" (409).
sub code_refused {
    my ($r, $d, $label) = @_;
    ok(($r->code == 400 && ($d->{error} // '') eq 'sms_expired')
            || ($r->code == 409 && ($d->{error} // '') eq 'wrong_step'),
        "$label: refused (400 sms_expired or 409 wrong_step)")
        or diag($r->code . ' ' . ($d->{error} // '-'));
    return like($d->{message} // '', qr/短信验证码/, "$label: the message is about the SMS code");
}

# POST /verify/mobile with each code, all from the same phone at the same
# moment; returns "STATUS error-or-next" for each.
sub parallel_verify {
    my ($c, @codes) = @_;
    return map { "$_->[0] " . ($_->[1]{error} // $_->[1]{next} // '') }
        parallel_post($c, '/verify/mobile', map { { sms_code => $_, agree => JSON::PP::true } } @codes);
}

sub retry_after_ok {
    my ($r, $d, $want, $label) = @_;
    my $ra = $r->header('Retry-After') // '';
    is($r->code, 429, "$label: 429");
    is($d->{error}, 'too_many_requests', "$label: too_many_requests");
    like($ra, qr/^[0-9]+$/, "$label: Retry-After in seconds");
    ok(abs($ra - $want) <= 4, "$label: Retry-After $ra, about $want") if length $ra;
    is($d->{retry_after}, $ra, "$label: the body's retry_after is the header's");
    like($d->{message} // '', qr/\Q$ra\E秒/, "$label: the message says when");
}

# ----------------------------------------------------------------------
# sent: the manual's text, to the sandbox, counted and audited
my ($c, $who) = applicant();
my $t0 = time;
my ($r, $d) = send_sms($c, $who->{mobile});
is($r->code, 200, 'POST /sms: 200');
ok($d->{ok}, 'ok');
is($d->{resend_after}, 60, 'resend_after 60');
my $list = sms_list($who->{mobile});
is(scalar @$list, 1, 'the sandbox received one SMS');
is($list->[0]{mobile}, $who->{mobile}, 'to the mobile');
like($list->[0]{text}, $TEXT, 'the text: 【大家签】, 6 digits, 5 minutes');
like($list->[0]{at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'with the time');
my $code1 = newest_code($who->{mobile});
my $row = db()->selectrow_hashref('SELECT at, client FROM sms_sends WHERE mobile_hash = ?', undef,
    otp_hash($who->{mobile}));
ok($row && $row->{at} >= $t0 && $row->{at} <= time, 'the send is counted in sms_sends, now');
is($row && $row->{client}, '127.0.0.1', 'with the client address');
is(audit_count(event => 'sms.send', outcome => 'ok', client => '127.0.0.1',
        detail => '%' . masked_mobile($who->{mobile}) . '%', since => $t0), 1,
    'audit: sms.send ok with the masked mobile');

# a second within 60 s: 429, nothing sent
($r, $d) = send_sms($c, $who->{mobile});
retry_after_ok($r, $d, 60 - (time - $row->{at}), 'again within 60 s');
is(sms_count($who->{mobile}), 1, 'the sandbox still has one SMS');
is(sends($who->{mobile}), 1, 'the refused send is not counted');
is(audit_count(event => 'sms.send', outcome => 'refused', detail => '%limit=interval%',
        since => $t0), 1, 'audit: refused by the interval');
# the refused request did not replace the code the phone has
($r, $d) = verify($c, $code1);
is($r->code, 200, 'the first code still works after the refused resend');
is($d->{next}, 'face', 'next face');

# once the minute has passed the next code goes, and replaces the last
my ($c2, $who2) = applicant();
send_sms($c2, $who2->{mobile});
my $old = newest_code($who2->{mobile});
age_sends($who2->{mobile}, 61);
($r, $d) = send_sms($c2, $who2->{mobile});
is($r->code, 200, '61 s later: the next code goes');
is(sms_count($who2->{mobile}), 2, 'the sandbox received both');
my $new = sms_code($who2->{mobile}, after_id => sms_list($who2->{mobile})->[1]{id});
push @codes, $new;
SKIP: {
    skip 'the two random codes happen to be equal', 2 if $old eq $new;
    ($r, $d) = verify($c2, $old);
    is($d->{error}, 'sms_wrong', 'the earlier code is now wrong');
    is($d->{attempts_left}, 4, 'attempts_left 4');
}
($r, $d) = verify($c2, $new);
is($r->code, 200, 'the newer code works');

# two phones ask for a code to one number at the same moment: one is sent
for my $round (1 .. 2) {
    my ($p1, $w1) = applicant();
    my ($p2) = applicant(mobile => $w1->{mobile});
    my @got = parallel_requests(map {
            my $a = $_->captcha;
            push @answers, $a;
            [$_, '/sms', { mobile => $w1->{mobile}, captcha => $a }]
        } $p1, $p2);
    is(join(' ', sort map { $_->[0] } @got), '200 429',
        "round $round: two parallel requests for one number: one sent, one refused");
    is(sms_count($w1->{mobile}), 1, "round $round: the sandbox received one SMS");
    is(sends($w1->{mobile}), 1, "round $round: one send counted");
}

# ----------------------------------------------------------------------
# at most 5 an hour and 10 a day per number: one send under the cap goes;
# at the cap, refused until the oldest counted send is out of the window
my %capped;    # limit => the mobile it holds
for my $cap (
    [ 'hourly', [ 3000, 2000, 1000, 120 ], 'four sends in the hour: the fifth goes',
        [ 3000, 2400, 1800, 1200, 600 ], 600, 'five in the hour' ],
    [ 'daily', [ map { 80000 - 7000 * $_ } 0 .. 8 ], 'nine sends in the day: the tenth goes',
        [ map { 80000 - 7000 * $_ } 0 .. 9 ], 6400, 'ten in the day' ],
  )
{
    my ($limit, $under, $under_label, $at, $retry, $at_label) = @$cap;
    my ($cu, $wu) = applicant();
    earlier_sends($wu->{mobile}, @$under);
    ($r, $d) = send_sms($cu, $wu->{mobile});
    is($r->code, 200, $under_label);
    my ($ca, $wa) = applicant();
    earlier_sends($wa->{mobile}, @$at);
    ($r, $d) = send_sms($ca, $wa->{mobile});
    retry_after_ok($r, $d, $retry, $at_label);
    $capped{$limit} = $wa->{mobile};
    is(sms_count($wa->{mobile}), 0, 'nothing sent');
    is(audit_count(event => 'sms.send', outcome => 'refused',
            detail => '%' . masked_mobile($wa->{mobile}) . " limit=$limit%", since => $t0), 1,
        "audit: refused by the $limit limit");
}

# sends older than a day do not count
my ($c7, $who7) = applicant();
earlier_sends($who7->{mobile}, map { 86401 + 100 * $_ } 0 .. 11);
($r, $d) = send_sms($c7, $who7->{mobile});
is($r->code, 200, 'twelve sends more than a day ago: goes');

# ----------------------------------------------------------------------
# a daily cap per client address (cnca_smscap: CNCASMSClientDailyLimit 3),
# from a loopback address no other test uses
my $addr = client_address();
my $other_addr = client_address();
$other_addr = client_address() while $other_addr eq $addr;
for my $i (1 .. 3) {
    my ($cc, $w) = applicant(vhost => 'cnca_smscap', from => $addr);
    ($r, $d) = send_sms($cc, $w->{mobile});
    is($r->code, 200, "cnca_smscap: send $i of 3 from one address goes");
}
my ($cc, $wc) = applicant(vhost => 'cnca_smscap', from => $addr);
($r, $d) = send_sms($cc, $wc->{mobile});
retry_after_ok($r, $d, 86400, 'the fourth from that address, to a new number');
is(sms_count($wc->{mobile}), 0, 'nothing sent');
is(audit_count(event => 'sms.send', outcome => 'refused', client => $addr,
        detail => '%limit=client_daily%'), 1, 'audit: refused by the per-address cap, with the address');
my ($cd, $wd) = applicant(vhost => 'cnca_smscap', from => $other_addr, mobile => $wc->{mobile});
($r, $d) = send_sms($cd, $wd->{mobile});
is($r->code, 200, 'the same number from another address goes');
is(sms_count($wc->{mobile}), 1, 'and reaches the sandbox');
my $interval_mobile = $wc->{mobile};    # sent just now

# ----------------------------------------------------------------------
# five wrong codes void the code
my ($c8, $who8) = applicant();
($r, $d) = send_sms($c8, $who8->{mobile});
is($r->code, 200, "a code for the wrong-code tests") or diag($r->decoded_content);
my $code8 = newest_code($who8->{mobile});
my $wrong = other_digits($code8);
for my $i (1 .. 4) {
    ($r, $d) = verify($c8, $wrong);
    is($r->code, 400, "wrong code $i: 400");
    is($d->{error}, 'sms_wrong', "wrong code $i: sms_wrong");
    is($d->{attempts_left}, 5 - $i, "wrong code $i: attempts_left " . (5 - $i));
    is($d->{field}, 'sms_code', "wrong code $i: field sms_code") if $i == 1;
    like($d->{message}, qr/^短信验证码错误/, "wrong code $i: the manual's message") if $i == 1;
}
($r, $d) = verify($c8, $wrong);
is($r->code, 400, 'the fifth wrong code: 400');
is($d->{error}, 'sms_expired', 'the code is void (sms_expired)');
($r, $d) = verify($c8, $code8);
code_refused($r, $d, 'the right code after five wrong ones');
is($c8->session->{step}, 'apply-verify', 'the phone is still at the SMS step');
my $subject8 = CncaTest::id_hash($who8->{id_number});
is(audit_count(event => 'sms.verify', outcome => 'wrong', subject => $subject8), 4,
    'audit: four wrong codes');
is(audit_count(event => 'sms.verify', outcome => 'voided', subject => $subject8), 1,
    'audit: the code voided');
is(db_count(q{SELECT COUNT(*) FROM audit WHERE event = 'sms.verify' AND subject = ?}
          . q{ AND outcome IN ('expired', 'wrong_step')}, $subject8), 1,
    'audit: the void code refused');
# a new code (a minute later) works
age_sends($who8->{mobile}, 61);
($r, $d) = send_sms($c8, $who8->{mobile});
is($r->code, 200, 'a minute later a new code is sent');
($r, $d) = verify($c8, sms_code($who8->{mobile}, after_id => sms_list($who8->{mobile})->[1]{id}));
is($r->code, 200, 'and the new code works');

# eight wrong codes at the same moment count as eight tries: the code is
# void after them
# every wrong try is counted, however many arrive at once (a try whose
# session write loses the race is answered conflict, not told)
{
    my ($cr, $wr) = applicant();
    send_sms($cr, $wr->{mobile});
    my $code = newest_code($wr->{mobile});
    my @got = parallel_verify($cr, map { other_digits($code, $_) } 1 .. 8);
    ($r, $d) = verify($cr, $code);
    code_refused($r, $d, 'eight wrong codes at once, then the right one') or diag("the eight: @got");
}

# ----------------------------------------------------------------------
# a right code works once: twice at the same moment, one wins
for my $round (1 .. 3) {
    my ($cp, $wp) = applicant();
    send_sms($cp, $wp->{mobile});
    my $code = newest_code($wp->{mobile});
    my @got = sort(parallel_verify($cp, $code, $code));
    is(scalar(grep { /^200 face$/ } @got), 1, "round $round: of two parallel right codes one wins")
        or diag("@got");
    is(scalar(grep { /^(400 sms_expired|409 wrong_step|409 conflict)$/ } @got), 1,
        "round $round: the other is refused") or diag("@got");
    ($r, $d) = verify($cp, $code);
    code_refused($r, $d, "round $round: the code a third time");
    is(audit_count(event => 'proof.carrier', outcome => 'pass',
            subject => CncaTest::id_hash($wp->{id_number})), 1,
        "round $round: one carrier proof");
}

# ----------------------------------------------------------------------
# a code is bound to its session and its mobile
my ($ca, $wa) = applicant();
send_sms($ca, $wa->{mobile});
my $codea = newest_code($wa->{mobile});
my ($cb, $wb) = applicant(mobile => $wa->{mobile});
($r, $d) = verify($cb, $codea);
code_refused($r, $d, "another phone's code for the same mobile");
my $m2 = mobile('139');
push @mobiles, $m2;
($r, $d) = $ca->post('/apply', { name => $wa->{name}, id_number => $wa->{id_number}, mobile => $m2 });
is($r->code, 200, 'the phone starts again with another mobile');
($r, $d) = verify($ca, $codea);
code_refused($r, $d, 'the code sent to the first mobile, after a change of mobile');

# only the flow's mobile gets a code
($r, $d) = send_sms($ca, mobile('139'));
is($r->code, 400, "/sms to a mobile that is not the flow's: 400");
is($d->{field}, 'mobile', 'field mobile');
($r, $d) = send_sms($ca, '12345678901');
is($d->{field}, 'mobile', 'an invalid mobile: field mobile');
my $nf = client();
$nf->session;
($r, $d) = send_sms($nf, mobile('139'));
is($r->code, 409, '/sms before /apply: 409');
is($d->{error}, 'wrong_step', 'wrong_step');

# ----------------------------------------------------------------------
# nothing in memcached in the clear (while sessions hold pending codes)
my ($cm, $wm) = applicant();
send_sms($cm, $wm->{mobile});
newest_code($wm->{mobile});
$cm->captcha;    # and a pending captcha
my $kv = memcached_dump();
my @sessions = grep { /^cnca:s:[0-9a-f]{64}$/ } keys %$kv;
ok(@sessions >= 10, 'memcached holds the sessions (' . scalar(@sessions) . ' under hashed keys)');
is(scalar(grep { $kv->{$_} !~ /^[A-Za-z0-9_-]{40,}={0,2}$/ } @sessions), 0,
    'every session is a sealed blob (base64url), not JSON');
my $leaks = memcached_leaks($kv, @codes, @answers, @mobiles, @ids, '刘德华');
is(scalar @$leaks, 0, 'no SMS code, captcha answer, mobile, ID number or name in memcached')
    or diag(join("\n", @$leaks[0 .. ($#$leaks > 4 ? 4 : $#$leaks)]));

# ----------------------------------------------------------------------
# memcached stopped: /sms refused with 503 and nothing sent
my ($cs, $ws) = applicant();
my $answer = $cs->captcha;
memcached_stop();
($r, $d) = $cs->post('/sms', { mobile => $ws->{mobile}, captcha => $answer });
is($r->code, 503, 'memcached down: /sms 503');
is($d->{error}, 'lookup_failed', 'lookup_failed');
is($d->{message}, '系统异常，请稍后重试！', "the manual's message");
memcached_start();
my $up = 0;
for (1 .. 30) {
    if (client()->get('/session')->code == 200) { $up = 1; last }
    Time::HiRes::sleep(0.2);
}
ok($up, 'memcached is back');
is(sms_count($ws->{mobile}), 0, 'no SMS went out');
is(sends($ws->{mobile}), 0, 'no send counted');

# the restart reset no limit: they live in the database
($cc, $wc) = applicant(vhost => 'cnca_smscap', from => $addr);
($r, $d) = send_sms($cc, $wc->{mobile});
is($r->code, 429, 'after the restart the per-address cap still holds');
is(sms_count($wc->{mobile}), 0, 'nothing sent');
my ($ci, $wi) = applicant(mobile => $interval_mobile);
($r, $d) = send_sms($ci, $interval_mobile);
is($r->code, 429, 'and so does the interval of a number');
is(sms_count($interval_mobile), 1, 'the sandbox still has the one SMS');
my ($ch) = applicant(mobile => $capped{hourly});
($r, $d) = send_sms($ch, $capped{hourly});
is($r->code, 429, 'and the hourly limit');

# ----------------------------------------------------------------------
# nothing in the clear in the error_log or the audit table
$leaks = error_log_leaks($log_from, @codes, @answers, @mobiles, @ids);
is(scalar @$leaks, 0, 'no SMS code, captcha answer, mobile or ID number in the error_log')
    or diag(join("\n", @$leaks[0 .. ($#$leaks > 4 ? 4 : $#$leaks)]));
my $rows = db()->selectall_arrayref('SELECT detail, subject FROM audit WHERE at >= ?', undef,
    $since);
my @bad = grep {
    my $t = join(' ', map { $_ // '' } @$_);
    grep { $t =~ /(?<![0-9A-Za-z])\Q$_\E(?![0-9A-Za-z])/ } @mobiles, @ids, @codes
} @$rows;
is(scalar @bad, 0, 'no full mobile, ID number or SMS code in the audit rows');

done_testing();
