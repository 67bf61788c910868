# GET /captcha and the captcha check of POST /sms (manual FAQ 5; DESIGN.md
# non-negotiables): four digits in a PNG that is never cached, a new one on
# each call replacing the last, single use (a wrong answer burns it), bound
# to the session, checked before any SMS goes out, and every failure in the
# audit table.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use GD;

my $since = time;
my $log_from = error_log_offset();
my (@answers, @mobiles, @ids);

sub wrong_answer { return other_digits($_[0]) }

# --- no session: no captcha
my $c = client();
my $r = $c->get('/captcha');
is($r->code, 401, 'no session: GET /captcha 401');
is(json_of($r)->{error}, 'no_session', 'no_session');

# --- the picture and its headers
$c->session;
$r = $c->get('/captcha');
is($r->code, 200, 'GET /captcha: 200');
is($r->header('Content-Type'), 'image/png', 'Content-Type image/png');
like($r->header('Cache-Control') // '', qr/\bno-store\b/, 'Cache-Control: no-store');
is($r->header('X-Content-Type-Options'), 'nosniff', 'X-Content-Type-Options: nosniff');
my $png = $r->content;
is(length($png), $r->header('Content-Length'), 'Content-Length is the body');
is(substr($png, 0, 8), "\x89PNG\r\n\x1a\n", 'the body is a PNG');
my $im = GD::Image->newFromPngData($png, 1);
ok($im, 'and decodes');
is(join('x', $im ? $im->getBounds : ()), '120x44', '120x44 pixels');
my $answer = $r->header('X-CNCA-Sandbox-Captcha');
like($answer // '', qr/^[0-9]{4}$/, 'sandbox: the answer in X-CNCA-Sandbox-Captcha, 4 digits');
push @answers, $answer;

# a new picture (and answer) on each call
my (%pictures, %seen);
for (1 .. 8) {
    my $r = $c->get('/captcha');
    $pictures{ $r->content } = 1;
    $seen{ $r->header('X-CNCA-Sandbox-Captcha') } = 1;
    push @answers, $r->header('X-CNCA-Sandbox-Captcha');
}
is(scalar(keys %pictures), 8, 'eight calls: eight different pictures');
ok(keys(%seen) >= 6, 'and (almost always) different answers');

# --- single use: a wrong answer burns it; the right one after it is refused
my $who = apply_flow($c);
push @mobiles, $who->{mobile};
push @ids, $who->{id_number};
my $masked = substr($who->{mobile}, 0, 3) . '****' . substr($who->{mobile}, -4);
$answer = $c->captcha;
push @answers, $answer;
my $d;
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => wrong_answer($answer) });
is($r->code, 400, 'a wrong captcha: 400');
is($d->{error}, 'captcha_wrong', 'captcha_wrong');
like($d->{message}, qr/^图形验证码错误/, "the manual's message");
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => $answer });
is($r->code, 400, 'then the right answer: refused (400)');
is($d->{error}, 'captcha_expired', 'captcha_expired: it was used up by the wrong try');
is($d->{message}, '图形验证码已过期，请重新获取', "the manual's message");
is(scalar @{ sms_list($who->{mobile}) }, 0, 'no SMS went out');
is(db_count('SELECT COUNT(*) FROM sms_sends WHERE mobile_hash = ?', otp_hash($who->{mobile})), 0,
    'no send was counted');
is(audit_count(event => 'captcha', outcome => 'wrong', detail => "%$masked%", since => $since), 1,
    'audit: the wrong captcha, with the masked mobile');
is(audit_count(event => 'captcha', outcome => 'expired', detail => "%$masked%", since => $since),
    1, 'audit: the spent captcha');
is(audit_count(event => 'captcha', outcome => 'wrong', client => '127.0.0.1', since => $since),
    1, 'audit: with the client address');

# no captcha asked for at all
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => '1234' });
is($d->{error}, 'captcha_expired', 'no captcha issued: captcha_expired');

# --- a new captcha replaces the last
my $first = $c->captcha;
my $second = $c->captcha;
$second = $c->captcha while $second eq $first;
push @answers, $first, $second;
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => $first });
is($d->{error}, 'captcha_wrong', 'the answer of an earlier captcha is wrong');
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => $second });
is($d->{error}, 'captcha_expired', 'and the newer one was burnt by it');

# --- right once, then used up (the second try fails on the captcha, not on
# the SMS interval)
$answer = $c->captcha;
push @answers, $answer;
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => $answer });
is($r->code, 200, 'the right captcha: the SMS goes');
is(scalar @{ sms_list($who->{mobile}) }, 1, 'the sandbox received it');
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => $answer });
is($r->code, 400, 'the same captcha again: 400');
is($d->{error}, 'captcha_expired', 'captcha_expired');
is(scalar @{ sms_list($who->{mobile}) }, 1, 'no second SMS');

# --- bound to the session: another phone cannot use this one's answer
my $x = client();
my $y = client();
my $xwho = apply_flow($x);
my $ywho = apply_flow($y);
push @mobiles, $xwho->{mobile}, $ywho->{mobile};
push @ids, $xwho->{id_number}, $ywho->{id_number};
my $xa = $x->captcha;
my $ya = $y->captcha;
$ya = $y->captcha while $ya eq $xa;
push @answers, $xa, $ya;
($r, $d) = $y->post('/sms', { mobile => $ywho->{mobile}, captcha => $xa });
is($r->code, 400, "another session's answer: 400");
is($d->{error}, 'captcha_wrong', 'captcha_wrong');
($r, $d) = $x->post('/sms', { mobile => $xwho->{mobile}, captcha => $xa });
is($r->code, 200, 'in its own session the answer works');
is(scalar @{ sms_list($ywho->{mobile}) }, 0, 'nothing went to the other phone');

# --- the captcha is not spent by a request refused before it is checked
$answer = $y->captcha;
push @answers, $answer;
($r, $d) = $y->post('/sms', { mobile => $ywho->{mobile}, captcha => 'abcd' });
is($r->code, 400, 'a captcha that is not 4 digits: 400');
is($d->{field}, 'captcha', 'field captcha');
($r, $d) = $y->post('/sms', { mobile => $ywho->{mobile}, captcha => '12345' });
is($d->{field}, 'captcha', 'five digits: field captcha');
($r, $d) = $y->post('/sms', { mobile => $ywho->{mobile}, captcha => $answer });
is($r->code, 200, 'the right answer still works after malformed ones');

# --- parallel answers to one captcha: one is judged (the first whose burn
# is written), the others learn nothing: conflict, or expired once it is gone
for my $round (1 .. 3) {
    my $pc = client();
    my $pw = apply_flow($pc);
    push @mobiles, $pw->{mobile};
    push @ids, $pw->{id_number};
    my $right = $pc->captcha;
    push @answers, $right;
    my @guesses = map { other_digits($right, $_) } 1 .. 7;
    splice @guesses, ($round - 1) * 3, 0, $right;
    my @got = parallel_post($pc, '/sms', map { { mobile => $pw->{mobile}, captcha => $_ } } @guesses);
    my @judged = grep { $_->[0] == 200 || ($_->[1]{error} // '') eq 'captcha_wrong' } @got;
    my @rest = grep { $_->[0] == 409 && $_->[1]{error} eq 'conflict'
            || $_->[0] == 400 && $_->[1]{error} eq 'captcha_expired' } @got;
    is(scalar @judged, 1, "round $round: of 8 parallel answers one is judged")
        or diag(join ' ', map { "$_->[0]/" . ($_->[1]{error} // 'ok') } @got);
    is(scalar(@rest), 8 - @judged, "round $round: the others: conflict or captcha_expired");
    my $sent = grep { $_->[0] == 200 } @got;
    is(scalar @{ sms_list($pw->{mobile}) }, $sent, "round $round: an SMS only if the right one won");
    my ($r, $d) = $pc->post('/sms', { mobile => $pw->{mobile}, captcha => $right });
    ok($r->code != 200, "round $round: the captcha is gone afterwards");
}

# --- a POST without the CSRF token does not touch the captcha
$answer = $c->captcha;
($r, $d) = $c->post('/sms', { mobile => $who->{mobile}, captcha => wrong_answer($answer) },
    no_csrf => 1);
is($r->code, 403, 'without X-CNCA-CSRF: 403');
is($d->{error}, 'csrf', 'csrf');

# --- nothing of it in the clear in the logs or the audit table
my $leaks = error_log_leaks($log_from, @answers, @mobiles, @ids);
is(scalar @$leaks, 0, 'no captcha answer, mobile or ID number in the error_log')
    or diag(join("\n", @$leaks[0 .. ($#$leaks > 4 ? 4 : $#$leaks)]));
my $dbh = db();
my $rows = $dbh->selectall_arrayref('SELECT detail, subject FROM audit WHERE at >= ?', undef,
    $since);
my @bad = grep {
    my $t = join(' ', map { $_ // '' } @$_);
    grep { $t =~ /(?<![0-9A-Za-z])\Q$_\E(?![0-9A-Za-z])/ } @mobiles, @ids
} @$rows;
is(scalar @bad, 0, 'no full mobile or ID number in the audit rows');
$dbh->disconnect;

done_testing();
