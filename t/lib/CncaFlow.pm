package CncaFlow;
# Step-by-step helpers for the enrollment tests (t/api/enroll.t, issuance.t,
# shortcuts.t, signature.t): each helper does one step of manual 3.1/3.2 the
# way the pages do it and returns the module's answer, so a test can assert
# on every step; plus the database, the audit trail, the openssl CLI and
# parallel requests. Built on CncaTest (client, sms_code, png, db, ...).
use strict;
use warnings FATAL => 'all';
use utf8;

use Exporter 'import';
use File::Temp ();
use IPC::Open3 ();
use JSON::PP ();
use LWP::UserAgent;
use POSIX ();
use Symbol ();
use Test::More ();
use Time::Local ();
use CncaTest;

our @EXPORT = qw(applicant apply send_sms verify_mobile verify_bank face_start face_capture_raw
  face_return face_pass to_face to_confirm luhn_card subject_of audit_mark audit_since person_of
  certs_of certificate_row serials_of openssl cert_text asn1_time sandbox_faces
  all_text_in_db in_parallel masked_mobile masked_id step_of audit_order_is MSG_NOT_REALNAME
  MSG_BANK_PASSED MSG_ACCEPTED);

use constant MSG_NOT_REALNAME =>
  '您的手机未能通过实名认证，请点击“确定”进行银行卡认证，若更换其他手机，请点击“取消”';
use constant MSG_BANK_PASSED =>
  '您已通过银行卡认证，确认使用你银行卡开户时预留在银行的手机号码作为申领数字证书手机号码';
use constant MSG_ACCEPTED => '您的证书申请已受理，证书正在签发中。请设置您的个性签名图片';

my $true = JSON::PP::true;

# A new applicant: {name, id_number, mobile}; %opt overrides.
sub applicant {
    my (%opt) = @_;
    return {
        name => $opt{name} // '刘德华',
        id_number => $opt{id_number} // id_number(),
        mobile => $opt{mobile} // mobile($opt{prefix} // '139'),
    };
}

# POST /apply for $who.
sub apply {
    my ($c, $who) = @_;
    return $c->post('/apply',
        { name => $who->{name}, id_number => $who->{id_number}, mobile => $who->{mobile} });
}

# A captcha, then POST /sms for mobile.
sub send_sms {
    my ($c, $mobile) = @_;
    return $c->post('/sms', { mobile => $mobile, captcha => $c->captcha });
}

# POST /sms for mobile, then POST /verify/mobile with the code the sandbox
# received (or $opt{code}); $opt{no_sms}: only the verify.
sub verify_mobile {
    my ($c, $mobile, %opt) = @_;
    unless ($opt{no_sms}) {
        my ($r) = send_sms($c, $mobile);
        die 'sms: ' . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    }
    my $code = $opt{code} // sms_code($mobile) // '000000';
    return $c->post('/verify/mobile', { sms_code => $code, agree => $true });
}

# POST /sms for the bank-reserved mobile, then POST /verify/bank.
sub verify_bank {
    my ($c, $card, $mobile, %opt) = @_;
    unless ($opt{no_sms}) {
        my ($r) = send_sms($c, $mobile);
        die 'bank sms: ' . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    }
    my $code = $opt{code} // sms_code($mobile) // '000000';
    return $c->post('/verify/bank',
        { card_number => $card, mobile => $mobile, sms_code => $code, agree => $true });
}

sub face_start { my ($c) = @_; return $c->post('/face/start', {}) }

# Uploads IMAGE as the phone's camera would for the face session at
# redirect; returns the sandbox's JSON answer ({result, redirect, message}).
sub face_capture_raw {
    my ($redirect, $image, $type) = @_;
    my ($token) = ($redirect // '') =~ /token=([0-9a-f]+)/;
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->post(CncaTest::sandbox_url("/face/capture?token=" . ($token // '')),
        'Content-Type' => $type // 'image/png', Content => $image);
    return json_of($res);
}

# The browser coming back from the gateway's page: GET the return URL with
# this client's cookie; returns the response (a 303 to a page).
sub face_return {
    my ($c, $url) = @_;
    return $c->ua->get($url);
}

# /face/start, a good capture, the way back: returns the Location.
sub face_pass {
    my ($c, $image) = @_;
    my ($r, $d) = face_start($c);
    die 'face/start: ' . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    my $cap = face_capture_raw($d->{redirect}, $image // png(128, 128));
    die 'no redirect from the sandbox' unless $cap->{redirect};
    return face_return($c, $cap->{redirect})->header('Location');
}

# Manual 3.1 up to the face step (apply, SMS, carrier pass); returns $who.
# Dies when a step fails. %opt goes to applicant.
sub to_face {
    my ($c, %opt) = @_;
    my $who = applicant(%opt);
    my ($r, $d) = apply($c, $who);
    die 'apply: ' . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    ($r, $d) = verify_mobile($c, $who->{mobile});
    die 'verify: ' . $r->code . ' ' . $r->decoded_content
      unless $r->code == 200 && $d->{next} eq 'face';
    return $who;
}

# Manual 3.1 up to the confirm page; returns $who. Dies when a step fails.
sub to_confirm {
    my ($c, %opt) = @_;
    my $who = to_face($c, %opt);
    my $loc = face_pass($c);
    die 'face: ' . ($loc // 'none') unless $loc && $loc =~ /face-done/;
    return $who;
}

# A card number of $len digits starting with $prefix that passes (or, with
# $bad, fails) the Luhn check.
sub luhn_card {
    my ($prefix, $len, $bad) = @_;
    $prefix //= '622202';
    $len //= 19;
    my $body = $prefix;
    $body .= int(rand(10)) while length($body) < $len - 1;
    my $sum = 0;
    my @d = reverse split //, $body;
    for my $i (0 .. $#d) {
        my $v = $d[$i];
        if ($i % 2 == 0) { $v *= 2; $v -= 9 if $v > 9 }
        $sum += $v;
    }
    my $check = (10 - $sum % 10) % 10;
    $check = ($check + 1) % 10 if $bad;
    return $body . $check;
}

sub subject_of { return CncaTest::id_hash($_[0]) }

sub masked_mobile { my ($m) = @_; return substr($m, 0, 3) . '****' . substr($m, -4) }
sub masked_id { my ($i) = @_; return substr($i, 0, 4) . ('*' x 10) . substr($i, -4) }

# The step GET /session reports.
sub step_of { my ($c) = @_; return scalar($c->session)->{step} }

# The newest audit row id: rows after it are this test's.
sub audit_mark { return db_count('SELECT COALESCE(MAX(id), 0) FROM audit') }

# Audit rows after $mark as hashrefs, oldest first; %where: column => value.
sub audit_since {
    my ($mark, %where) = @_;
    my $sql = 'SELECT * FROM audit WHERE id > ?';
    my @args = ($mark);
    for my $k (sort keys %where) {
        $sql .= " AND $k = ?";
        push @args, $where{$k};
    }
    my $dbh = db();
    my $rows = $dbh->selectall_arrayref("$sql ORDER BY id", { Slice => {} }, @args);
    $dbh->disconnect;
    return $rows;
}

# Passes when the audit rows (audit_since), taken as "event/outcome" and
# kept to those named in want, are want in that order.
sub audit_order_is {
    my ($audit, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @events = map { "$_->{event}/$_->{outcome}" } @$audit;
    my %named = map { $_ => 1 } @$want;
    return Test::More::is_deeply([ grep { $named{$_} } @events ], $want, $name)
      || Test::More::diag(Test::More::explain(\@events));
}

# The persons row of an ID number (found by its keyed hash), or undef.
sub person_of {
    my ($idn) = @_;
    my $dbh = db();
    my $row = $dbh->selectrow_hashref('SELECT * FROM persons WHERE id_hash = ?', undef,
        subject_of($idn));
    $dbh->disconnect;
    return $row;
}

# Certificates of the person with this ID number.
sub certs_of {
    my ($idn) = @_;
    return db_count(
        'SELECT COUNT(*) FROM certificates c JOIN persons p ON p.id = c.person_id'
          . ' WHERE p.id_hash = ?', subject_of($idn));
}

sub certificate_row {
    my ($serial) = @_;
    my $dbh = db();
    my $row = $dbh->selectrow_hashref('SELECT * FROM certificates WHERE serial = ?', undef, $serial);
    $dbh->disconnect;
    return $row;
}

# Serials recorded for this ID number (issued or not).
sub serials_of {
    my ($idn) = @_;
    return db_count('SELECT COUNT(*) FROM serials WHERE id_hash = ?', subject_of($idn));
}

# Face sessions the sandbox was asked for, for this ID number.
sub sandbox_faces {
    my ($idn) = @_;
    my $dbh = db();
    my $rows = $dbh->selectall_arrayref('SELECT * FROM sandbox_face WHERE id_number = ?',
        { Slice => {} }, $idn);
    $dbh->disconnect;
    return $rows;
}

# Every text value in the module's tables (not the sandbox's, which is the
# identity gateway and keeps what a gateway would), one string per cell.
sub all_text_in_db {
    my $dbh = db();
    my @cells;
    my $tables = $dbh->selectcol_arrayref(
        q{SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sandbox%'}
          . q{ AND name NOT LIKE 'sqlite%'});
    for my $t (@$tables) {
        for my $row (@{ $dbh->selectall_arrayref("SELECT * FROM \"$t\"") }) {
            push @cells, map { "$t: $_" } grep { defined } @$row;
        }
    }
    $dbh->disconnect;
    return \@cells;
}

# Runs the openssl CLI; returns (exit status, stdout+stderr). $opt{stdin}:
# text for its standard input.
sub openssl {
    my ($args, %opt) = @_;
    my $err = Symbol::gensym();
    my $pid = IPC::Open3::open3(my $in, my $out, undef, 'openssl', @$args);
    binmode $in;
    print $in $opt{stdin} if defined $opt{stdin};
    close $in;
    binmode $out, ':encoding(UTF-8)';
    my $text = do { local $/; <$out> } // '';
    waitpid($pid, 0);
    return ($? >> 8, $text);
}

# openssl x509 -noout ARGS on a PEM.
sub cert_text {
    my ($pem, @args) = @_;
    my (undef, $text) = openssl([ 'x509', '-noout', @args ], stdin => $pem);
    return $text;
}

# "2026-11-25 20:39:34Z" (openssl -dateopt iso_8601) as Unix seconds.
sub asn1_time {
    my ($s) = @_;
    my ($y, $mo, $d, $h, $mi, $se) = $s =~ /(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)/
      or return undef;
    return Time::Local::timegm($se, $mi, $h, $d, $mo - 1, $y);
}

# Runs each sub in its own process, released together; returns their
# results (each sub returns a string) in order.
sub in_parallel {
    my (@subs) = @_;
    my ($go_r, $go_w);
    pipe($go_r, $go_w) or die "pipe: $!";
    my @kids;
    for my $sub (@subs) {
        my $tmp = File::Temp->new(UNLINK => 1);
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            close $go_w;
            my $x = <$go_r>;    # waits until the parent closes its end
            my $result = eval { $sub->() } // "died: $@";
            open my $fh, '>:raw', $tmp->filename or POSIX::_exit(1);
            print $fh $result;
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, [ $pid, $tmp ];
    }
    close $go_r;
    close $go_w;    # go
    my @out;
    for my $k (@kids) {
        waitpid($k->[0], 0);
        open my $fh, '<:raw', $k->[1]->filename or die;
        push @out, do { local $/; <$fh> } // '';
    }
    return @out;
}

1;
