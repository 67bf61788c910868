# The API answers wherever a <Location> sets its handler, without a file
# behind the URL, and that <Location>'s access rules hold (the module skips
# httpd's file-system walk for API and sandbox requests).
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent;
use lib 't/lib';
use CncaTest;

# RES is httpd's own 403 error page (no module answered it)
sub httpd_forbidden_ok {
    my ($res, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->header('Content-Type'), 'text/html; charset=iso-8859-1', "$name (type)");
    like($res->decoded_content, qr{<title>403 Forbidden</title>}, "$name (body)");
}

my $ua = LWP::UserAgent->new(timeout => 30, max_redirect => 0);
my $base = CncaTest::base_url();

my $res = $ua->get("$base/elsewhere/api/session");
is($res->code, 200, 'GET /elsewhere/api/session: 200 (no Alias, no folder behind it)');
my $s = CncaTest::json_of($res);
is_json_bool($s->{ok}, 1, '  a new session, as at /cnca/api: ok');
like($s->{csrf} // '', qr/^[0-9a-f]{32}$/, '  its CSRF token');
is($s->{step}, 'index', '  at the start page');
is_json_bool($s->{logged_in}, 0, '  not logged in');
is($res->header('Content-Type'), 'application/json; charset=utf-8', '  JSON');

$res = $ua->get("$base/elsewhere/api/no/such/route");
is($res->code, 404, 'an unknown route under it: 404');
is(CncaTest::json_of($res)->{error}, 'not_found', '  the API\'s own not_found');

$res = $ua->get("$base/closed/api/session");
is($res->code, 403, 'GET /closed/api/session: 403 (Require all denied in its <Location>)');
httpd_forbidden_ok($res, '  httpd\'s own 403 page: the API did not answer');
is($res->header('Set-Cookie'), undef, '  no session made');

# a server-wide RewriteRule still sees API URLs (mod_rewrite's
# translate_name runs before the module's, whatever the load order)
$res = $ua->get("$base/cnca/api/refused-by-rewrite");
is($res->code, 403, 'RewriteRule [F] on an API URL: 403 from mod_rewrite');
httpd_forbidden_ok($res, '  httpd\'s own 403 page, not the API\'s not_found');
$res = $ua->get("$base/cnca/api/refused-by-rewrite-not");
is($res->code, 404, 'a URL the rule does not match: the API\'s 404');
is(CncaTest::json_of($res)->{error}, 'not_found', '  not_found');

$res = $ua->get(CncaTest::sandbox_url('/sms?mobile=13900000000'));
is($res->code, 200, 'the sandbox answers from its <Location> too');
is($res->header('Content-Type'), 'application/json; charset=utf-8', '  JSON');
is(ref CncaTest::json_of($res), 'ARRAY', '  the list of that mobile\'s messages');

done_testing();
