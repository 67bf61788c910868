# GET /session, the cookie's flags, CSRF on every POST, logout.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;

my $c = client();
my ($res, $s) = $c->session;
is($res->code, 200, 'GET /session answers 200');
is($res->header('Content-Type'), 'application/json; charset=utf-8', 'JSON');
ok($s->{ok}, 'ok is true');
like($s->{csrf}, qr/^[0-9a-f]{32}$/, 'a 128-bit CSRF token');
is($s->{step}, 'index', 'a new session stands at the start page');
ok(!$s->{logged_in}, 'not logged in');
ok($s->{sandbox}, 'the test server runs in sandbox mode');
is($s->{hotline}, '962600', 'hotline from CNCAHotline');

my $cookie = $res->header('Set-Cookie');
like($cookie, qr/^cnca_session=[0-9a-f]{32};/, 'cookie carries a 128-bit id');
like($cookie, qr/; HttpOnly/, 'HttpOnly');
like($cookie, qr/; SameSite=Lax/, 'SameSite=Lax');
like($cookie, qr/; Path=\//, 'Path=/');
unlike($cookie, qr/Secure/, 'no Secure flag when CNCACookieSecure Off');
is($res->header('Cache-Control'), 'no-store', 'no-store');
is($res->header('X-Content-Type-Options'), 'nosniff', 'nosniff');
like($res->header('Content-Security-Policy'), qr/frame-ancestors 'none'/, 'CSP');

my $id = $c->cookie_value;
my ($res2, $s2) = $c->session;
is($s2->{csrf}, $s->{csrf}, 'the same session comes back');
ok(!$res2->header('Set-Cookie'), 'no new cookie for a known session');
is($c->cookie_value, $id, 'same id');

# the session id is nowhere in memcached as it is, nor in the database
is(CncaTest::db_count('SELECT COUNT(*) FROM audit WHERE detail LIKE ?', "%$id%"), 0,
    'session id not in the audit table');
ok(CncaTest::db_count(q{SELECT COUNT(*) FROM audit WHERE event = 'session.create'}) >= 1,
    'session creation audited');

# CSRF
my ($r, $d) = $c->post('/apply', { name => '张三', id_number => '11010519491231002X',
    mobile => '13912345678' }, no_csrf => 1);
is($r->code, 403, 'POST without X-CNCA-CSRF: 403');
is($d->{error}, 'csrf', 'error csrf');
($r, $d) = $c->post('/apply', { name => '张三' }, csrf => 'f' x 32);
is($r->code, 403, 'POST with a wrong token: 403');

# an unknown or forged cookie gets a fresh session, never another one's
my $f = client();
$f->ua->cookie_jar->set_cookie(0, 'cnca_session', 'a' x 32, '/', '127.0.0.1', undef, 1, 0, 100);
my ($fr, $fs) = $f->session;
isnt($fs->{csrf}, $s->{csrf}, 'forged id: new session');
like($fr->header('Set-Cookie') // '', qr/cnca_session=[0-9a-f]{32}/, 'with a new cookie');

# POST without a session: 401
my $n = client();
$n->{csrf} = 'x' x 32;
($r, $d) = $n->post('/logout', undef);
is($r->code, 401, 'POST without a session: 401');
is($d->{error}, 'no_session', 'no_session');

# unknown route and wrong method
is($c->get('/nothing')->code, 404, 'unknown route: 404');
is($c->get('/apply')->code, 405, 'GET on a POST route: 405');

# logout ends the session server-side
($r, $d) = $c->post('/logout', undef);
is($r->code, 200, 'logout');
is($d->{next}, 'index', 'next index');
my $old = client();
$old->ua->cookie_jar->set_cookie(0, 'cnca_session', $id, '/', '127.0.0.1', undef, 1, 0, 100);
$old->{csrf} = $s->{csrf};
($r, $d) = $old->post('/apply', { name => '张三' });
is($r->code, 401, 'the old cookie no longer works after logout');

done_testing();
