# POST /apply and POST /login (manual 3.1 steps 2-3, manual 4): the first
# step of both flows, every field's bad input, hostile names, and the
# database as it must (not) be afterwards.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;

my $dbh = db();
sub persons { return CncaTest::db_count('SELECT COUNT(*) FROM persons') }
my $persons_before = persons();    # other test files may have enrolled people

# --- a new person: no certificate yet
my $c = client();
my $id = id_number();
my $mobile = mobile('139');
my ($r, $d) = $c->post('/apply', { name => '刘德华', id_number => $id, mobile => $mobile });
is($r->code, 200, '/apply for a new person: 200');
ok($d->{ok}, 'ok');
ok(defined $d->{has_certificate} && !$d->{has_certificate}, 'has_certificate false');
is($d->{next}, 'apply-verify', 'next apply-verify');
my $s = $c->session;
is($s->{flow}, 'apply', 'the session holds the apply flow');
is($s->{mobile}, $mobile, 'and the flow mobile');
is($s->{step}, 'apply-verify', 'standing at the captcha/SMS step');
is(persons(), $persons_before, 'nothing written to persons by /apply');
is(audit_count(event => 'apply', outcome => 'no_certificate', subject => CncaTest::id_hash($id)),
    1, 'audited, under the keyed ID hash');
my ($leak) = $dbh->selectrow_array(
    'SELECT COUNT(*) FROM audit WHERE detail LIKE ? OR subject LIKE ? OR detail LIKE ?',
    undef, "%$id%", "%$id%", "%$mobile%");
is($leak, 0, 'no full ID number or mobile in the audit table');

# lowercase x is taken as X
($r, $d) = $c->post('/apply', { name => '刘德华', id_number => '11010519491231002x',
    mobile => $mobile });
is($r->code, 200, 'lowercase x accepted');

# --- login without a certificate
($r, $d) = $c->post('/login', { name => '刘德华', id_number => $id, mobile => $mobile });
is($r->code, 404, '/login without a certificate: 404');
is($d->{error}, 'no_certificate', 'no_certificate');
is($d->{message}, '您尚未申请数字证书', "the manual's message");

# --- a person who has a certificate (seeded row)
my $seed_id = id_number('440524');
my $seed_mobile = mobile('138');
my $hash = seed_person('王小明', $seed_id, $seed_mobile);
($r, $d) = $c->post('/apply', { name => '王小明', id_number => $seed_id, mobile => $seed_mobile });
is($r->code, 409, '/apply for a holder: 409');
is($d->{error}, 'has_certificate', 'has_certificate');
is($d->{message}, '您已取得上海建筑业个人数字证书，请选择“我已有证书”', "the message");
is($d->{next}, 'login', 'next login');

($r, $d) = $c->post('/login', { name => '王小明', id_number => $seed_id, mobile => $seed_mobile });
is($r->code, 200, '/login for a holder: 200');
is($d->{next}, 'apply-verify', 'next apply-verify');
is($c->session->{flow}, 'login', 'login flow in the session');
($r, $d) = $c->post('/login', { name => '王大明', id_number => $seed_id, mobile => $seed_mobile });
is($r->code, 404, '/login with another name: no_certificate');

# --- every field's bad input: 400, the field named, nothing written
my %good = (name => '张三', id_number => '11010519491231002X', mobile => '13912345678');
my @bad = (
    [name => undef], [name => ''], [name => 'Zhang San'], [name => '张'],
    [name => '张' x 31], [name => "张三\r\nSet-Cookie: x=1"], [name => q{张三'; DROP TABLE persons;--}],
    [name => '<script>'], [name => 12345],
    [id_number => undef], [id_number => '110105194912310021'], [id_number => '11010519491231002'],
    [id_number => '990105194912310028'], [id_number => '110105194913310021'],
    [id_number => '11010520991231002X'], [id_number => "11010519491231002X'--"],
    [mobile => undef], [mobile => '12345678901'], [mobile => '1391234567'],
    [mobile => '139123456789'], [mobile => '1391234567a'], [mobile => '+8613912345678'],
);
my $before_audit = CncaTest::db_count('SELECT COUNT(*) FROM audit');
for my $path ('/apply', '/login') {
    for my $b (@bad) {
        my %body = (%good, $b->[0] => $b->[1]);
        delete $body{$b->[0]} unless defined $b->[1];
        my $label = sprintf('%s %s=%s', $path, $b->[0], defined $b->[1] ? $b->[1] : '(missing)');
        $label =~ s/[\r\n]/ /g;
        my ($r, $d) = $c->post($path, \%body);
        is($r->code, 400, "$label: 400");
        is($d->{error}, 'invalid_input', "$label: invalid_input");
        is($d->{field}, $b->[0], "$label: field $b->[0]");
        ok(length($d->{message} // '') > 0, "$label: a message");
    }
}
is(persons(), $persons_before + 1, 'no person written by bad input (only the seeded one)');
is(CncaTest::db_count('SELECT COUNT(*) FROM persons WHERE name LIKE ?', '%DROP%'), 0,
    'the SQL text was not stored');
is($dbh->selectrow_array(q{SELECT COUNT(*) FROM sqlite_master WHERE name = 'persons'}), 1,
    'persons table still there');

# --- bodies that are not the JSON object the API takes
($r, $d) = $c->post('/apply', 'name=x', type => 'application/x-www-form-urlencoded');
is($r->code, 415, 'form body: 415');
($r, $d) = $c->post('/apply', '{"name":', type => 'application/json');
is($r->code, 400, 'broken JSON: 400');
($r, $d) = $c->post('/apply', '[1,2]', type => 'application/json');
is($r->code, 400, 'a JSON array: 400');
($r, $d) = $c->post('/apply', '{"name":"a","name":"b"}', type => 'application/json');
is($r->code, 400, 'duplicate keys: 400');
($r, $d) = $c->post('/apply', '{"x":"' . ('a' x 20000) . '"}', type => 'application/json');
is($r->code, 413, 'a body over 16 KB: 413');

# --- memcached stopped: lookup_failed, then it works again
CncaTest::memcached_stop();
($r, $d) = client()->session;
is($r->code, 503, 'memcached down: GET /session 503');
is($d->{error}, 'lookup_failed', 'lookup_failed');
is($d->{message}, '系统异常，请稍后重试！', "the manual's message");
($r, $d) = $c->post('/apply', \%good);
is($r->code, 503, 'memcached down: POST /apply 503');
CncaTest::memcached_start();
my $ok = 0;
for (1 .. 30) {
    my ($r) = client()->session;
    if ($r->code == 200) { $ok = 1; last }
    select undef, undef, undef, 0.2;
}
ok($ok, 'after memcached is back, the next request works');
my $c2 = client();
($r, $d) = $c2->post('/apply', { %good, id_number => id_number() });
is($r->code, 200, 'and /apply works again');

# --- the database unreachable (the cnca_nodb virtual host's DBDParams names
# a file that cannot be opened): lookup_failed with the manual's message
my $nodb = client(vhost => 'cnca_nodb');
($r, $d) = $nodb->session;
is($r->code, 200, 'no database: the session itself lives in memcached');
($r, $d) = $nodb->post('/apply', { %good, id_number => id_number() });
is($r->code, 503, 'no database: /apply 503');
is($d->{error}, 'lookup_failed', 'lookup_failed');
is($d->{message}, '系统异常，请稍后重试！', "the manual's message");
($r, $d) = $nodb->post('/login', \%good);
is($r->code, 503, 'no database: /login 503');

$dbh->disconnect;
done_testing();

# A holder as issuance would leave one: person + valid certificate.
sub seed_person {
    my ($name, $idn, $mob) = @_;
    my $key = CncaTest::master_key();
    my $h = CncaTest::id_hash($idn);
    my $now = time;
    $dbh->do('INSERT INTO persons (id_hash, id_enc, name, mobile, created_at, updated_at)'
          . ' VALUES (?, ?, ?, ?, ?, ?)', undef, $h, 'seeded', $name, $mob, $now, $now);
    my $pid = $dbh->last_insert_id('', '', 'persons', 'id');
    my $serial = sprintf('%032X', int(rand(2**31)));
    $dbh->do('INSERT INTO serials (serial, id_hash, algorithm, created_at) VALUES (?,?,?,?)',
        undef, $serial, $h, 'ec-p256', $now);
    $dbh->do('INSERT INTO certificates (person_id, serial, algorithm, not_before, not_after,'
          . q{ cert_pem, key_enc, status, created_at) VALUES (?,?,?,?,?,?,?,'valid',?)},
        undef, $pid, $serial, 'ec-p256', $now, $now + 86400 * 365, 'seeded', 'seeded', $now);
    return $h;
}
