# The same service on PostgreSQL: the <VirtualHost cnca_pg> of
# t/conf/extra.conf.in (DBDriver pgsql, a throwaway cluster that
# tools/testenv.sh starts), with its own sandbox gateway whose tables are in
# PostgreSQL too. The main flows run there, and what the module wrote is
# checked on the PostgreSQL side: persons, serials, certificates,
# signatures, SMS counts, the audit trail; the ID number never in the clear;
# one valid certificate per person, also when two sessions confirm at once.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use DBI;
use JSON::PP ();
use lib 't/lib';
use CncaTest;
use CncaFlow qw(masked_id masked_mobile);

my $true = JSON::PP::true;

# sandbox_url, sms_code, face_capture and enroll ask this vhost's sandbox
$CncaTest::vhost = 'cnca_pg';

# PostgreSQL as tools/testenv.sh left it (no PostgreSQL is a failure here)
sub pg {
    my @missing = grep { !$ENV{$_} } qw(CNCA_PG_SOCKET CNCA_PG_PORT CNCA_PG_USER);
    die "@missing not set: run the tests with tools/test.sh (make test), which starts PostgreSQL\n"
      if @missing;
    return DBI->connect("dbi:Pg:host=$ENV{CNCA_PG_SOCKET};port=$ENV{CNCA_PG_PORT};dbname=cnca",
        $ENV{CNCA_PG_USER}, '',
        { RaiseError => 1, AutoCommit => 1, PrintError => 0, pg_enable_utf8 => 1 });
}
my $pg = eval { pg() };
ok($pg, 'PostgreSQL is there for the cnca_pg vhost') or diag $@;
unless ($pg) {
    done_testing();
    exit 1;
}

sub pg_one {
    my ($sql, @args) = @_;
    my ($v) = $pg->selectrow_array($sql, undef, @args);
    return $v;
}

sub newest_sms_id {
    my ($mobile) = @_;
    return pg_one('SELECT COALESCE(MAX(id), 0) FROM sandbox_sms WHERE mobile = ?', $mobile);
}

# manual 3.1 up to (not including) /confirm: apply, SMS, carrier, face
sub proven {
    my ($c, $who) = @_;
    my ($r, $d) = $c->post('/apply', $who);
    return "apply: " . $r->code unless $r->code == 200;
    my $after = newest_sms_id($who->{mobile});
    ($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => $c->captcha });
    return "sms: " . $r->code unless $r->code == 200;
    my $code = sms_code($who->{mobile}, after_id => $after) or return 'no SMS code';
    ($r, $d) = $c->post('/verify/mobile', { sms_code => $code, agree => $true });
    return "verify: " . $r->code unless $r->code == 200 && $d->{next} eq 'face';
    ($r, $d) = $c->post('/face/start', {});
    return "face/start: " . $r->code unless $r->code == 200;
    my $loc = face_capture($c, $d->{redirect}) // '';
    return "face: $loc" unless $loc =~ /face-done/;
    return '';
}

# ---- the session, and an /apply that is refused
my $c = client(vhost => 'cnca_pg');
my ($r, $d) = $c->session;
is($r->code, 200, 'GET /session on cnca_pg: 200');
like($d->{csrf} // '', qr/^[0-9a-f]{32}$/, 'a CSRF token');
ok($d->{sandbox}, 'the sandbox is on');

my $persons0 = pg_one('SELECT COUNT(*) FROM persons');
my $bad_id = id_number();
substr($bad_id, -1) = substr($bad_id, -1) eq '0' ? '1' : '0';    # a wrong check digit
($r, $d) = $c->post('/apply', { name => '刘德华', id_number => $bad_id, mobile => mobile('139') });
is($r->code, 400, '/apply with a bad ID number: 400');
is($d->{error}, 'invalid_input', 'invalid_input');
is($d->{field}, 'id_number', 'the field is named');
is(pg_one('SELECT COUNT(*) FROM persons'), $persons0, 'no person row for a refused /apply');

# ---- manual 3.1 end to end
my $who = { name => '张学友', id_number => id_number(), mobile => mobile('139') };
my $id_hash = CncaTest::id_hash($who->{id_number});
my ($cr, $cd) = enroll($c, %$who);
is($cr->code, 200, 'enrollment on PostgreSQL: /confirm 200') or diag $cr->decoded_content;
is($cd->{next}, 'signature', 'next signature');
like($cd->{serial} // '', qr/^[0-9A-F]{16,}$/, 'a serial');
is($cd->{message}, '您的证书申请已受理，证书正在签发中。请设置您的个性签名图片',
    'the manual\'s message');
my $serial = $cd->{serial} // 'none';

# what PostgreSQL holds
my $person = $pg->selectrow_hashref('SELECT * FROM persons WHERE id_hash = ?', undef, $id_hash);
ok($person, 'persons: a row, found by the keyed ID hash');
$person //= { id => 0 };
my $pid = $person->{id};
is($person->{name}, $who->{name}, 'persons: the name (UTF-8)');
is($person->{mobile}, $who->{mobile}, 'persons: the verified mobile');
ok($person->{id_enc} && index($person->{id_enc}, $who->{id_number}) < 0,
    'persons: the ID number is sealed, not in the clear');
is(CncaTest::db_count('SELECT COUNT(*) FROM persons WHERE id_hash = ?', $id_hash), 0,
    'and nothing of it went to the SQLite database of the main server');

my $cert = $pg->selectrow_hashref('SELECT * FROM certificates WHERE person_id = ?', undef, $pid);
ok($cert, 'certificates: a row for the person');
$cert //= {};
is($cert->{serial}, $serial, 'certificates: the serial /confirm answered');
is($cert->{status}, 'valid', 'certificates: valid');
is($cert->{algorithm}, 'ec-p256', 'certificates: ec-p256');
like($cert->{cert_pem} // '', qr/^-----BEGIN CERTIFICATE-----/, 'certificates: the PEM');
ok(($cert->{key_enc} // '') ne '' && ($cert->{key_enc} // '') !~ /PRIVATE KEY/,
    'certificates: the private key is sealed');
ok(($cert->{not_after} // 0) - ($cert->{not_before} // 0) <= 825 * 86400,
    'certificates: valid at most 825 days');
is(pg_one('SELECT id_hash FROM serials WHERE serial = ?', $serial), $id_hash,
    'serials: the serial was recorded for this person');
is(pg_one('SELECT COUNT(*) FROM audit WHERE event = ? AND outcome = ? AND person_id = ?'
          . ' AND subject = ? AND detail LIKE ?', 'issue', 'ok', $pid, $id_hash,
        "serial=$serial%"), 1, 'audit: the issuance, with person, subject and serial');
cmp_ok(pg_one('SELECT COUNT(*) FROM audit WHERE subject = ?', $id_hash), '>=', 3,
    'audit: the proofs before it too');
is(pg_one('SELECT COUNT(*) FROM sms_sends WHERE mobile_hash = ?', otp_hash($who->{mobile})), 1,
    'sms_sends: the code sent is counted');
cmp_ok(pg_one('SELECT COUNT(*) FROM sandbox_sms WHERE mobile = ? AND text LIKE ?',
        $who->{mobile}, '%验证码为%'), '>=', 1, 'the sandbox on PostgreSQL got the SMS');
is(pg_one('SELECT status FROM sandbox_face WHERE id_number = ? ORDER BY created_at DESC LIMIT 1',
        $who->{id_number}), 'pass', 'the sandbox on PostgreSQL kept the face session');

# ---- the holder's pages
my $me_res = $c->get('/me');
my $me = json_of($me_res);
is($me_res->code, 200, 'GET /me: 200');
is($me->{name}, $who->{name}, '/me: name');
is($me->{id_number}, masked_id($who->{id_number}), '/me: the ID number masked');
is($me->{mobile}, masked_mobile($who->{mobile}), '/me: the mobile masked');
is($me->{certificate}{serial}, $serial, '/me: the serial');
is($me->{certificate}{status}, 'valid', '/me: valid');
ok(!$me->{has_signature}, '/me: no signature yet');

my $sig = png(240, 100);
($r, $d) = $c->post('/me/signature?source=upload', $sig, type => 'image/png');
is($r->code, 200, 'signature upload: 200');
is($d->{next}, 'terms', 'then the terms notice');
is(pg_one('SELECT COUNT(*) FROM signatures WHERE person_id = ?', $pid), 1,
    'signatures: a row on PostgreSQL');
is(pg_one('SELECT source FROM signatures WHERE person_id = ?', $pid), 'upload',
    'signatures: its source');
$r = $c->get('/me/signature.png');
is($r->code, 200, 'GET /me/signature.png: 200');
is($r->header('Content-Type'), 'image/png', 'a PNG');
is(substr($r->content, 0, 8), "\x89PNG\r\n\x1a\n", 'with the PNG signature');
ok(json_of($c->get('/me'))->{has_signature}, '/me: has_signature');
($r, $d) = $c->post('/me/signature?source=upload', png(200, 80), type => 'image/png');
is($r->code, 200, 'a new signature: 200');
is(pg_one('SELECT COUNT(*) FROM signatures WHERE person_id = ?', $pid), 1,
    'signatures: still one row (replaced)');

# ---- applying again: the person has a certificate
{
    my $x = client(vhost => 'cnca_pg');
    ($r, $d) = $x->post('/apply', $who);
    is($r->code, 409, 'a second /apply for the holder: 409');
    is($d->{error}, 'has_certificate', 'has_certificate');
    is($d->{next}, 'login', 'next login');
}

# ---- "我已有证书": login with the verified mobile, and the SMS interval
{
    my $l = client(vhost => 'cnca_pg');
    ($r, $d) = $l->post('/login', $who);
    is($r->code, 200, 'POST /login: 200');
    is($d->{next}, 'apply-verify', 'login: next apply-verify');

    # the enrollment's code went to this mobile seconds ago
    my $sends = pg_one('SELECT COUNT(*) FROM sms_sends WHERE mobile_hash = ?',
        otp_hash($who->{mobile}));
    ($r, $d) = $l->post('/sms', { mobile => $who->{mobile}, captcha => $l->captcha });
    is($r->code, 429, 'a second /sms to the number within 60 s: 429');
    is($d->{error}, 'too_many_requests', 'too_many_requests');
    cmp_ok($d->{retry_after} // 0, '>', 0, 'retry_after: seconds to wait');
    cmp_ok($d->{retry_after} // 99, '<=', 60, 'retry_after: within the interval');
    is($r->header('Retry-After'), $d->{retry_after}, 'and the Retry-After header');
    is(pg_one('SELECT COUNT(*) FROM sms_sends WHERE mobile_hash = ?',
            otp_hash($who->{mobile})), $sends, 'the refused code was not counted');
    cmp_ok(pg_one('SELECT COUNT(*) FROM audit WHERE event = ? AND outcome = ? AND detail LIKE ?',
            'sms.send', 'refused', '%limit=interval%'), '>=', 1, 'audit: the refusal');

    # a minute later (as far as the database knows)
    $pg->do('UPDATE sms_sends SET at = at - 61 WHERE mobile_hash = ?', undef,
        otp_hash($who->{mobile}));
    my $after = newest_sms_id($who->{mobile});
    ($r, $d) = $l->post('/sms', { mobile => $who->{mobile}, captcha => $l->captcha });
    is($r->code, 200, '/sms after the interval: 200') or diag $r->decoded_content;
    my $code = sms_code($who->{mobile}, after_id => $after);
    like($code // '', qr/^\d{6}$/, 'the code arrived in the sandbox');
    ($r, $d) = $l->post('/sms', { mobile => $who->{mobile}, captcha => $l->captcha });
    is($r->code, 429, 'and again at once: 429');
    ($r, $d) = $l->post('/verify/mobile', { sms_code => $code, agree => $true });
    is($r->code, 200, 'login: /verify/mobile 200');
    is($d->{next}, 'me', 'login with the verified mobile: next me');
    $me = json_of($l->get('/me'));
    is($me->{certificate}{serial}, $serial, 'logged in: /me shows the certificate');
    ok($me->{has_signature}, 'logged in: and the signature');
    is(pg_one('SELECT COUNT(*) FROM audit WHERE event = ? AND outcome = ? AND person_id = ?',
            'login', 'ok', $pid), 1, 'audit: the login');
}

# ---- the sandbox's forced answers come from PostgreSQL (NULL reasons too)
{
    my $n = client(vhost => 'cnca_pg');
    my $mob = mobile('139');
    ($r, $d) = $n->post('/apply', { name => '黎明', id_number => '310101198001019055',
            mobile => $mob });
    is($r->code, 200, 'a sandbox person whose carrier check fails: /apply 200');
    ($r, $d) = $n->post('/sms', { mobile => $mob, captcha => $n->captcha });
    is($r->code, 200, 'its /sms: 200');
    ($r, $d) = $n->post('/verify/mobile', { sms_code => sms_code($mob), agree => $true });
    is($r->code, 200, 'its /verify/mobile: 200') or diag $r->decoded_content;
    is_json_bool($d->{realname}, 0, 'the carrier did not confirm (sandbox_person)');
    is($d->{next}, 'bank', 'next bank');
}

# ---- two sessions confirm the same new person at once: one certificate
{
    my $idn = id_number();
    my @who = map { { name => '郭富城', id_number => $idn, mobile => mobile('139') } } 1 .. 2;
    my @c = map { client(vhost => 'cnca_pg') } 1 .. 2;
    is(proven($c[$_], $who[$_]), '', "parallel confirms: session $_ has every proof") for 0 .. 1;
    my @pids;
    for my $i (0 .. 1) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            close $rd;
            my ($res, $data) = $c[$i]->post('/confirm', { mobile => $who[$i]{mobile} });
            print $wr $res->code, ' ', ($data->{error} // $data->{next} // ''), "\n";
            close $wr;
            require POSIX;
            POSIX::_exit(0);
        }
        close $wr;
        push @pids, [$pid, $rd];
    }
    my @answers = sort map {
        my ($pid, $rd) = @$_;
        my $line = <$rd> // 'none';
        waitpid $pid, 0;
        chomp $line;
        $line;
    } @pids;
    is_deeply(\@answers, ['200 signature', '409 has_certificate'],
        'parallel confirms: one issues, the other is told the person has a certificate');
    my $h = CncaTest::id_hash($idn);
    is(pg_one('SELECT COUNT(*) FROM certificates c JOIN persons p ON p.id = c.person_id'
              . ' WHERE p.id_hash = ?', $h), 1, 'parallel confirms: one certificate');
    is(pg_one('SELECT COUNT(*) FROM persons WHERE id_hash = ?', $h), 1,
        'parallel confirms: one person');
}

# ---- the database as a whole
is(pg_one(q{SELECT COUNT(*) FROM (SELECT person_id FROM certificates WHERE status = 'valid'
        GROUP BY person_id HAVING COUNT(*) > 1) AS x}), 0,
    'no person has two valid certificates');
is(pg_one('SELECT COUNT(*) FROM certificates c LEFT JOIN serials s ON s.serial = c.serial'
          . ' WHERE s.serial IS NULL'), 0, 'every certificate\'s serial was recorded first');
{
    local $pg->{RaiseError} = 0;
    $pg->begin_work;
    my $ok = $pg->do(q{INSERT INTO serials (serial, id_hash, algorithm, created_at)
        VALUES ('00AA00AA00AA00AA', ?, 'ec-p256', 0)}, undef, $id_hash)
      && $pg->do(q{INSERT INTO certificates (person_id, serial, algorithm, not_before, not_after,
        cert_pem, key_enc, created_at) VALUES (?, '00AA00AA00AA00AA', 'ec-p256', 0, 1, 'x', 'y', 0)},
        undef, $pid);
    ok(!$ok, 'PostgreSQL itself refuses a second valid certificate for a person');
    $pg->rollback;
}
my $id = $who->{id_number};
my $mob = $who->{mobile};
is(pg_one(q{SELECT COUNT(*) FROM audit WHERE detail LIKE ? OR subject LIKE ? OR client LIKE ?},
        "%$id%", "%$id%", "%$id%"), 0, 'audit: no ID number in the clear');
is(pg_one(q{SELECT COUNT(*) FROM audit WHERE detail LIKE ? OR subject LIKE ?}, "%$mob%",
        "%$mob%"), 0, 'audit: no full mobile');
is(pg_one(q{SELECT COUNT(*) FROM persons WHERE id_enc LIKE ? OR id_hash LIKE ? OR name LIKE ?},
        "%$id%", "%$id%", "%$id%"), 0, 'persons: no ID number in the clear');
is(pg_one(q{SELECT COUNT(*) FROM serials WHERE id_hash LIKE ?}, "%$id%"), 0,
    'serials: no ID number in the clear');

$pg->disconnect;
done_testing();
