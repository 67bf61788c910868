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

my $ua = LWP::UserAgent->new(timeout => 30, max_redirect => 0);
my $base = CncaTest::base_url();

my $res = $ua->get("$base/elsewhere/api/session");
is($res->code, 200, 'GET /elsewhere/api/session: 200 (no Alias, no folder behind it)');
my $s = CncaTest::json_of($res);
ok($s->{ok} && $s->{csrf} =~ /^[0-9a-f]{32}$/, '  a new session, as at /cnca/api');
is($res->header('Content-Type'), 'application/json; charset=utf-8', '  JSON');

$res = $ua->get("$base/elsewhere/api/no/such/route");
is($res->code, 404, 'an unknown route under it: 404');
is(CncaTest::json_of($res)->{error}, 'not_found', '  the API\'s own not_found');

$res = $ua->get("$base/closed/api/session");
is($res->code, 403, 'GET /closed/api/session: 403 (Require all denied in its <Location>)');
unlike($res->decoded_content, qr/"ok"/, '  the API did not answer');
ok(!$res->header('Set-Cookie'), '  no session made');

# a server-wide RewriteRule still sees API URLs (mod_rewrite's
# translate_name runs before the module's, whatever the load order)
$res = $ua->get("$base/cnca/api/refused-by-rewrite");
is($res->code, 403, 'RewriteRule [F] on an API URL: 403 from mod_rewrite');
unlike($res->decoded_content, qr/not_found/, '  not the API\'s not_found');
$res = $ua->get("$base/cnca/api/refused-by-rewrite-not");
is($res->code, 404, 'a URL the rule does not match: the API\'s 404');
is(CncaTest::json_of($res)->{error}, 'not_found', '  not_found');

$res = $ua->get(CncaTest::sandbox_url('/sms?mobile=13900000000'));
is($res->code, 200, 'the sandbox answers from its <Location> too');
like($res->header('Content-Type') // '', qr{^application/json}, '  JSON');

done_testing();
