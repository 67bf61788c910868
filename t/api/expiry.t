# Session lifetimes on the vhost cnca_short (CNCASessionTimeout 3,
# CNCASessionMaxAge 6): a session idle longer than the timeout ends, one in
# use stays until its absolute lifetime ends, for anonymous and logged-in
# sessions alike; an ended session is deleted from memcached and its cookie
# no longer works.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use Time::HiRes ();
use lib 't/lib';
use CncaTest;
use CncaHolder;

my $VHOST = 'cnca_short';

# a holder, enrolled on the main server
my (undef, $who) = holder();

# A session on cnca_short that is logged in as the holder (through manual 4
# with the verified mobile, under a second).
sub logged_in_client {
    allow_sms($who->{mobile});
    my $c = client(vhost => $VHOST);
    my ($r, $d) = $c->post('/login',
        { name => $who->{name}, id_number => $who->{id_number}, mobile => $who->{mobile} });
    die 'login: ' . $r->code unless $r->code == 200;
    ($r, $d) = prove_mobile($c, $who->{mobile});
    die 'login verify: ' . $r->code . ' ' . $r->decoded_content unless ($d->{next} // '') eq 'me';
    return $c;
}

sub anonymous_client {
    my $c = client(vhost => $VHOST);
    $c->session;
    return $c;
}

# A: anonymous, left idle; B: anonymous, in use; C: logged in, left idle;
# D: logged in, in use.
my $t0 = Time::HiRes::time();
my %c = (A => anonymous_client(), B => anonymous_client());
$c{C} = logged_in_client();
$c{D} = logged_in_client();
my $setup = Time::HiRes::time() - $t0;
diag sprintf('sessions made in %.2f s', $setup);
my %sid = map { $_ => $c{$_}->cookie_value } keys %c;
my %csrf = map { $_ => $c{$_}{csrf} } keys %c;
ok(stored_session($sid{$_}), "$_: the session is in memcached") for sort keys %c;
is($c{C}->get('/me')->code, 200, 'C: logged in');
is($c{D}->get('/me')->code, 200, 'D: logged in');

# B and D are used every 1.5 s: each request restarts the idle timer
my $t = Time::HiRes::time();
for my $at (1.5, 3.0, 4.5) {
    sleep_until($t, $at);
    my ($res, $s) = $c{B}->session;
    is($s->{csrf}, $csrf{B}, "B: in use, the same session after ${at}s");
    ok(!$res->header('Set-Cookie'), "B: no new cookie after ${at}s");
    my $me = $c{D}->get('/me');
    is($me->code, 200, "D: in use, still logged in after ${at}s");
    if ($at == 4.5) {
        # A and C: no request since they were made, more than 3 s ago
        my ($r, $d) = $c{A}->post('/apply', { name => '张三', id_number => id_number(),
            mobile => mobile('139') });
        is($r->code, 401, 'A: idle longer than CNCASessionTimeout: 401');
        is($d->{error}, 'no_session', 'A: no_session');
        like($r->header('Set-Cookie') // '', qr/cnca_session=;.*Max-Age=0/,
            'A: the cookie is cleared');
        ok(!stored_session($sid{A}), 'A: the expired session is deleted from memcached');
        $r = $c{C}->get('/me');
        is($r->code, 401, 'C: logged in but idle longer than CNCASessionTimeout: 401');
        is(json_of($r)->{error}, 'no_session', 'C: no_session');
        is(json_of($r)->{message}, '会话已过期，请重新开始', "C: the pages' message");
        ok(!stored_session($sid{C}), 'C: the expired session is deleted from memcached');
        my $again = client_with_cookie($sid{C}, $csrf{C}, vhost => $VHOST);
        is($again->get('/me')->code, 401, 'C: its cookie stays refused');
    }
}

# past CNCASessionMaxAge since they were made: B and D end although in use
sleep_until($t0, 7.5);
{
    my ($r, $d) = $c{B}->post('/apply', { name => '张三', id_number => id_number(),
        mobile => mobile('139') });
    is($r->code, 401, 'B: in use, but older than CNCASessionMaxAge: 401');
    is($d->{error}, 'no_session', 'B: no_session');
    ok(!stored_session($sid{B}), 'B: deleted from memcached');
    $r = $c{D}->get('/me');
    is($r->code, 401, 'D: logged in and in use, but older than CNCASessionMaxAge: 401');
    ok(!stored_session($sid{D}), 'D: deleted from memcached');
    ($r, $d) = $c{D}->post('/me/mobile', { mobile => mobile('139') });
    is($r->code, 401, 'D: no phone change with the expired session');
}

# a fresh login after expiry works (the holder is not locked out)
{
    my $c = logged_in_client();
    is($c->get('/me')->code, 200, 'a new login after expiry works');
}

# the main server keeps its own (longer) lifetimes for a session this old
{
    my $c = client();
    $c->session;
    my $sid = $c->cookie_value;
    sleep_until(Time::HiRes::time(), 3.5);
    my ($res, $s) = $c->session;
    is($c->cookie_value, $sid, 'main server: a session idle 3.5 s is still there');
}

done_testing();
