package CncaHolder;
# Helpers for the certificate-holder tests (manual 4, FAQ 4, manual 6.7):
# the steps of a flow one by one, a client moved between <VirtualHost>s
# (the cookie jar is shared by host, so a session made on the main server
# is the same session on cnca_nodb or cnca_short), memcached as the module
# left it, the database's durable state for "nothing changed" checks, and
# the sandbox inbox.
use strict;
use warnings FATAL => 'all';
use utf8;

use Exporter 'import';
use Digest::SHA ();
use IO::Socket::INET;
use JSON::PP ();
use Test::More ();
use Time::HiRes ();
use URI;
use CncaTest;
use CncaFlow ();    # its steps, without its exports (send_sms, masked_mobile)

our @EXPORT = qw(holder allow_sms send_sms prove_mobile prove_bank prove_face card_number
  masked_mobile other_mobile with_vhost stored_session client_with_cookie durable_state inbox
  notices person_row sleep_until went_to_bank);

my $true = JSON::PP::true;

# A new holder: enrolled through manual 3.1 on a new client (logged in there,
# just enrolled). Returns ($client, {name, id_number, mobile, serial,
# person_id}). %opt goes to CncaTest::enroll.
sub holder {
    my (%opt) = @_;
    my $c = client(defined $opt{vhost} ? (vhost => delete $opt{vhost}) : ());
    my ($r, $d, $who) = enroll($c, %opt);
    die 'enroll: ' . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    $who->{serial} = $d->{serial};
    $who->{person_id} = CncaTest::db_count(
        'SELECT person_id FROM certificates WHERE serial = ?', $d->{serial});
    # the enrollment's SMS went to this mobile: a later test may send another
    allow_sms($who->{mobile});
    return ($c, $who);
}

# As if the SMS sent to mobile so far were an hour old: the 60 s resend
# interval and the hourly cap no longer stand in the way of the next step
# (the daily cap still counts them). The tests are about what follows the
# SMS, not about its limits (those are tested elsewhere).
sub allow_sms {
    my ($mobile) = @_;
    my $dbh = db();
    $dbh->do('UPDATE sms_sends SET at = at - 3601 WHERE mobile_hash = ?', undef,
        otp_hash($mobile));
    $dbh->disconnect;
}

# captcha + POST /sms for mobile; returns ($res, $data).
sub send_sms { return CncaFlow::send_sms(@_) }

# The newest SMS id the sandbox holds for mobile (0 when none).
sub last_sms_id {
    my ($mobile) = @_;
    my $l = CncaTest::sms_list($mobile);
    return @$l ? $l->[0]{id} // 0 : 0;
}

# POST /sms for mobile; returns the code that arrived for it. Dies when the
# SMS is not sent or no new code arrives.
sub new_sms_code {
    my ($c, $mobile) = @_;
    my $after = last_sms_id($mobile);
    my ($r) = send_sms($c, $mobile);
    die "sms to $mobile: " . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    return sms_code($mobile, after_id => $after) // die "no SMS code for $mobile";
}

# POST /sms then POST /verify/mobile with the code that arrived; returns
# ($res, $data) of the verify step. Dies when the SMS is not sent.
sub prove_mobile {
    my ($c, $mobile) = @_;
    my $code = new_sms_code($c, $mobile);
    return $c->post('/verify/mobile', { sms_code => $code, agree => $true });
}

# The bank step (manual 3.2 step 6): an SMS to the bank-reserved mobile,
# then POST /verify/bank; returns ($res, $data).
sub prove_bank {
    my ($c, $card, $mobile) = @_;
    my $code = new_sms_code($c, $mobile);
    return $c->post('/verify/bank',
        { card_number => $card, mobile => $mobile, sms_code => $code, agree => $true });
}

# POST /face/start, the sandbox's camera page, back through /face/return.
# Returns the Location the module answered (undef when the start failed)
# and, in list context, the /face/start answer too.
sub prove_face {
    my ($c, $image) = @_;
    my ($r, $d) = $c->post('/face/start', {});
    return wantarray ? (undef, $r, $d) : undef unless $r->code == 200;
    my $loc = face_capture($c, $d->{redirect}, $image);
    return wantarray ? ($loc, $r, $d) : $loc;
}

# A 16-digit card number that passes the Luhn check.
sub card_number { return CncaFlow::luhn_card('622202', 16) }

sub masked_mobile { return CncaFlow::masked_mobile(@_) }

# The /verify/mobile answer for a mobile the carrier does not confirm
# (API.md): 200, realname false, next bank, the manual's message.
sub went_to_bank {
    my ($r, $d, $label) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($r->code, 200, "$label: SMS step 200");
    is_json_bool($d->{realname}, 0, "$label: realname false");
    Test::More::is($d->{next}, 'bank', "$label: next bank");
    Test::More::is($d->{message}, CncaFlow::MSG_NOT_REALNAME, "$label: the manual's message");
}

# A mobile with prefix whose masked form differs from every one given.
sub other_mobile {
    my ($prefix, @not) = @_;
    while (1) {
        my $m = mobile($prefix);
        return $m unless grep { substr($_, -4) eq substr($m, -4) } @not;
    }
}

# Runs code with client c talking to <VirtualHost> vhost (undef: the main
# server); the cookie jar and CSRF token go with it.
sub with_vhost {
    my ($c, $vhost, $code) = @_;
    local $c->{vhost} = $vhost;
    return $code->();
}

# Whether memcached holds the session document for cookie id sid
# (cnca_store_key: "cnca:s:" + hex SHA-256 of the id).
sub stored_session {
    my ($sid) = @_;
    my $key = 'cnca:s:' . Digest::SHA::sha256_hex($sid);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ENV{CNCA_MC_PORT},
        Timeout => 5) or die "memcached: $!";
    print $s "get $key\r\n";
    my $found = 0;
    while (my $line = <$s>) {
        $found = 1 if $line =~ /^VALUE \Q$key\E /;
        last if $line =~ /^(END|ERROR|CLIENT_ERROR|SERVER_ERROR)/;
    }
    close $s;
    return $found;
}

# A client that holds cookie id sid and CSRF token csrf (an old cookie,
# kept by someone).
sub client_with_cookie {
    my ($sid, $csrf, %opt) = @_;
    my $c = client(%opt);
    # HTTP::Cookies files a host name without a dot under NAME.local
    my $host = URI->new($c->url('/'))->host;
    $host .= '.local' unless $host =~ /\./;
    $c->ua->cookie_jar->set_cookie(0, 'cnca_session', $sid, '/', $host, undef, 1, 0, 3600);
    $c->{csrf} = $csrf;
    return $c;
}

# The durable state the module keeps (persons, certificates, serials,
# signatures) as one string: equal before and after means nothing changed.
# Audit rows and SMS counters are left out: failures are audited.
sub durable_state {
    my $dbh = db();
    my @parts;
    for my $q (
        'SELECT id, id_hash, id_enc, name, mobile, created_at, updated_at FROM persons ORDER BY id',
        'SELECT id, person_id, serial, algorithm, not_before, not_after, status FROM certificates'
          . ' ORDER BY id',
        'SELECT serial, id_hash FROM serials ORDER BY serial',
        'SELECT person_id, png_b64, source, updated_at FROM signatures ORDER BY person_id',
      )
    {
        my $rows = $dbh->selectall_arrayref($q);
        push @parts, join("\n", map { join('|', map { $_ // '' } @$_) } @$rows);
    }
    $dbh->disconnect;
    return join("\n--\n", @parts);
}

# The person's row: {id, name, mobile, updated_at}.
sub person_row {
    my ($person_id) = @_;
    my $dbh = db();
    my $row = $dbh->selectrow_hashref('SELECT id, name, mobile, updated_at FROM persons WHERE id = ?',
        undef, $person_id);
    $dbh->disconnect;
    return $row;
}

# The sandbox inbox of mobile, newest first: [{id, mobile, text, at}].
sub inbox { return CncaTest::sms_list($_[0]) }

# The phone-change notices in mobile's inbox (texts that are no codes).
sub notices {
    my ($mobile) = @_;
    return [grep { $_->{text} =~ /验证手机已变更/ } @{ inbox($mobile) }];
}

# Sleeps until `at` seconds (Time::HiRes) have passed since `from`.
sub sleep_until {
    my ($from, $at) = @_;
    my $left = $from + $at - Time::HiRes::time();
    Time::HiRes::sleep($left) if $left > 0;
}

1;
