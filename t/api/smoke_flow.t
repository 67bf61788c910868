# One applicant through manual 3.1 end to end, the shortest check that all
# parts (session, captcha, SMS via the sandbox, carrier check, face, CA,
# database) work together. The detailed tests are in the other files.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;

my $c = client();
my ($r, $d, $who) = enroll($c);
is($r->code, 200, 'confirm: 200');
is($d->{next}, 'signature', 'next signature');
like($d->{serial}, qr/^[0-9A-F]{16,}$/, 'a serial');
is($d->{message}, '您的证书申请已受理，证书正在签发中。请设置您的个性签名图片', 'the message');
is(CncaTest::db_count('SELECT COUNT(*) FROM certificates WHERE serial = ?', $d->{serial}), 1,
    'certificate stored');
my $me = CncaTest::json_of($c->get('/me'));
is($me->{name}, $who->{name}, '/me name');
is($me->{mobile}, substr($who->{mobile}, 0, 3) . '****' . substr($who->{mobile}, -4), 'masked mobile');
is($me->{id_number}, substr($who->{id_number}, 0, 4) . '*' x 10 . substr($who->{id_number}, -4),
    'masked ID');
is($me->{certificate}{serial}, $d->{serial}, 'serial on /me');
($r, $d) = $c->post('/me/signature?source=upload', png(200, 100), type => 'image/png');
is($r->code, 200, 'signature upload');
is($d->{next}, 'terms', 'then the terms notice');
is($c->get('/me/signature.png')->header('Content-Type'), 'image/png', 'signature served');
done_testing();
