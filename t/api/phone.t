# 修改手机号码 (manual 4 (2)): a logged-in holder changes the verified
# mobile to a real-name number (captcha + SMS code + carrier check) or to a
# non-real-name number (bank card with that number as the bank-reserved
# mobile, face, confirm). The old number is told; the holder's other
# sessions end. (That the change and its audit row are one transaction is
# seen in errors.t: a change the database cannot take leaves no trace.)
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaHolder;

sub changes {
    my ($person_id) = @_;
    return CncaTest::db_count(q{SELECT COUNT(*) FROM audit WHERE event = 'mobile.change'}
          . q{ AND outcome = 'ok' AND person_id = ?}, $person_id);
}

# The notice the old number gets: sign name, the new number masked, hotline.
sub is_notice {
    my ($old, $new, $count, $name) = @_;
    my $n = notices($old);
    is(scalar @$n, $count, "$name: the old number got the notice");
    my $text = @$n ? $n->[0]{text} : '';
    is($text, '【大家签】您的上海建筑业个人数字证书验证手机已变更为' . masked_mobile($new)
          . '。如非本人操作，请致电962600。',
        "$name: the notice: signed 【大家签】, the new number masked, the hotline");
    unlike($text, qr/\Q$new\E/, "$name: not the full new number");
    is(scalar @{ notices($new) }, 0, "$name: the new number gets no notice");
}

# --- not logged in
{
    my $c = client();
    my ($r, $d) = $c->post('/me/mobile', { mobile => mobile('139') });
    is($r->code, 401, 'not logged in: POST /me/mobile 401');
    is($d->{error}, 'not_logged_in', 'not logged in: not_logged_in');
}

# --- to a real-name number: captcha, SMS code, carrier check
my ($c, $who) = holder();
my $pid = $who->{person_id};
{
    my $old = $who->{mobile};
    my $new = other_mobile('139', $old);
    my $before = person_row($pid);
    my $state = durable_state();

    my ($r, $d) = $c->post('/me/mobile', { mobile => $old });
    is($r->code, 400, 'real-name: the same number is refused');
    is($d->{field}, 'mobile', 'real-name: the field is named');
    ($r, $d) = $c->post('/me/mobile', { mobile => '1391234' });
    is($r->code, 400, 'real-name: a bad number is refused');
    ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    is($r->code, 200, 'real-name: POST /me/mobile 200');
    is($d->{next}, 'apply-verify', 'real-name: next apply-verify');
    my $s = $c->session;
    is($s->{flow}, 'change-mobile', 'real-name: the change-mobile flow');
    is($s->{mobile}, $new, 'real-name: for the new number');
    ok($s->{logged_in}, 'real-name: still logged in');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($old), 'real-name: /me shows the old one');

    ($r, $d) = $c->post('/sms', { mobile => other_mobile('139', $new, $old),
        captcha => $c->captcha });
    is($r->code, 400, 'real-name: no SMS to another number than the new one');
    is($d->{field}, 'mobile', 'real-name: the field is named');
    my $answer = $c->captcha // '';
    ($r, $d) = $c->post('/sms', { mobile => $new, captcha => $answer eq '0000' ? '1111' : '0000' });
    is($r->code, 400, 'real-name: a wrong captcha is refused');
    is($d->{error}, 'captcha_wrong', 'real-name: captcha_wrong');
    ($r, $d) = send_sms($c, $new);
    is($r->code, 200, 'real-name: the code is sent to the new number');
    my $code = sms_code($new);
    like($code // '', qr/^[0-9]{6}$/, 'real-name: the new number got the code');
    my $wrong = sprintf('%06d', ($code + 1) % 1_000_000);
    ($r, $d) = $c->post('/verify/mobile', { sms_code => $wrong, agree => JSON::PP::true });
    is($r->code, 400, 'real-name: a wrong SMS code is refused');
    is($d->{error}, 'sms_wrong', 'real-name: sms_wrong');
    is(durable_state(), $state, 'real-name: nothing changed by the wrong code');

    my $sid = $c->cookie_value;
    my $n = changes($pid);
    ($r, $d) = $c->post('/verify/mobile', { sms_code => $code, agree => JSON::PP::true });
    is($r->code, 200, 'real-name: the right code: 200');
    is($d->{next}, 'me', 'real-name: next me');
    ok(!defined $d->{realname} || $d->{realname}, 'real-name: the carrier confirmed');
    my $after = person_row($pid);
    is($after->{mobile}, $new, 'real-name: the verified mobile is the new one');
    ok($after->{updated_at} >= $before->{updated_at}, 'real-name: updated_at set');
    is(changes($pid), $n + 1, 'real-name: one audit row for the change');
    my $audit = CncaTest::db()->selectrow_hashref(q{SELECT * FROM audit WHERE event =}
          . q{ 'mobile.change' AND outcome = 'ok' AND person_id = ? ORDER BY id DESC}, undef,
        $pid);
    is($audit->{detail}, 'mobile=' . masked_mobile($new), 'real-name: audited with the masked number');
    is($audit->{at}, $after->{updated_at}, 'real-name: the audit row and the update are of one moment');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($new), 'real-name: /me shows the new one');
    isnt($c->cookie_value, $sid, 'real-name: the session goes on under a new id');
    is(client_with_cookie($sid, $s->{csrf})->get('/me')->code, 401,
        'real-name: the id before the change no longer works');
    is_notice($old, $new, 1, 'real-name');
    is($c->session->{flow}, undef, 'real-name: the flow is over');
    is(CncaTest::db_count('SELECT COUNT(*) FROM certificates WHERE person_id = ?', $pid), 1,
        'real-name: the same single certificate');
    $who->{mobile} = $new;
}

# --- to a non-real-name number: bank card (reserved mobile = the new number), face, confirm
{
    my $old = $who->{mobile};
    my $new = other_mobile('138', $old);
    my $card = card_number();
    # the carrier does not know this person with that number
    sandbox_person($who->{id_number}, 'mobile-3e', 'fail');
    allow_sms($old);
    my $state = durable_state();

    my ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    is($r->code, 200, 'non-real-name: POST /me/mobile 200');
    went_to_bank(prove_mobile($c, $new), 'non-real-name');
    is(durable_state(), $state, 'non-real-name: nothing changed by the carrier refusal');
    ($r, $d) = $c->post('/face/start', {});
    is($r->code, 409, 'non-real-name: no face check before the bank check');
    is($d->{error}, 'wrong_step', 'non-real-name: face before bank: wrong_step');
    ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 409, 'non-real-name: no confirm before the bank check');
    is($d->{error}, 'wrong_step', 'non-real-name: confirm before bank: wrong_step');

    allow_sms($new);
    ($r, $d) = prove_bank($c, $card, $new);
    is($r->code, 200, 'non-real-name: bank check 200');
    is($d->{next}, 'face', 'non-real-name: next face');
    is($d->{mobile}, $new, 'non-real-name: the bank-reserved mobile is the new number');
    is(durable_state(), $state, 'non-real-name: nothing changed by the bank check alone');
    ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 409, 'non-real-name: no confirm before the face check');
    is($d->{error}, 'wrong_step', 'non-real-name: wrong_step');

    my $loc = prove_face($c);
    like($loc // '', qr{/face-done\.html$}, 'non-real-name: face passed');
    is($c->session->{step}, 'confirm', 'non-real-name: at confirm');
    is(durable_state(), $state, 'non-real-name: nothing changed before confirm');
    my $n = changes($pid);
    ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 200, 'non-real-name: /confirm 200');
    is($d->{next}, 'me', 'non-real-name: next me');
    is(person_row($pid)->{mobile}, $new, 'non-real-name: the verified mobile is the new one');
    is(changes($pid), $n + 1, 'non-real-name: one audit row for the change');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($new), 'non-real-name: /me shows it');
    is_notice($old, $new, 1, 'non-real-name');
    $who->{mobile} = $new;
    my $dbh = db();
    $dbh->do('DELETE FROM sandbox_person WHERE subject = ?', undef, $who->{id_number});
    $dbh->disconnect;
}

# --- a bank-reserved mobile other than the typed number: the bank's number is the one proven
{
    my $old = $who->{mobile};
    my $typed = other_mobile('170', $old);
    my $bank = other_mobile('136', $old, $typed);
    allow_sms($old);
    my ($r, $d) = $c->post('/me/mobile', { mobile => $typed });
    ($r, $d) = prove_mobile($c, $typed);
    is($d->{next}, 'bank', 'bank mobile: a 170 number goes to the bank step');
    ($r, $d) = prove_bank($c, card_number(), $bank);
    is($r->code, 200, 'bank mobile: bank check 200');
    is($d->{mobile}, $bank, 'bank mobile: the bank-reserved mobile is the flow mobile');
    like(prove_face($c) // '', qr{/face-done\.html$}, 'bank mobile: face passed');
    ($r, $d) = $c->post('/confirm', { mobile => $typed });
    is($r->code, 409, 'bank mobile: the typed number was not proven: refused');
    is($d->{error}, 'wrong_step', 'bank mobile: the typed number: wrong_step');
    is(person_row($pid)->{mobile}, $old, 'bank mobile: unchanged by the refusal');
    ($r, $d) = $c->post('/confirm', { mobile => $bank });
    is($r->code, 200, 'bank mobile: confirm the bank-reserved mobile');
    is(person_row($pid)->{mobile}, $bank, 'bank mobile: it is the verified mobile');
    $who->{mobile} = $bank;
}

# --- a phone change ends the holder's other sessions
{
    my $old = $who->{mobile};
    allow_sms($old);
    my $other = client();
    my ($r, $d) = $other->post('/login',
        { name => $who->{name}, id_number => $who->{id_number}, mobile => $old });
    ($r, $d) = prove_mobile($other, $old);
    is($d->{next}, 'me', 'other session: a second phone logs in as the same holder');
    is($other->get('/me')->code, 200, 'other session: /me 200 there');
    my $other_sid = $other->cookie_value;
    is($c->get('/me')->code, 200, 'other session: and here');

    my $new = other_mobile('139', $old);
    ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    ($r, $d) = prove_mobile($c, $new);
    is($d->{next}, 'me', 'other session: the phone is changed here');
    is(person_row($pid)->{mobile}, $new, 'other session: changed');
    my $me = $c->get('/me');
    is($me->code, 200, 'other session: the changing session goes on');
    $r = $other->get('/me');
    is($r->code, 401, 'other session: the other session gets 401');
    is(json_of($r)->{error}, 'no_session', 'other session: no_session');
    ok(!stored_session($other_sid), 'other session: deleted from memcached');
    ($r, $d) = $other->post('/me/mobile', { mobile => other_mobile('139', $new, $old) });
    is($r->code, 401, 'other session: POST refused too');
    $who->{mobile} = $new;

    # a login after the change works with the new number
    allow_sms($new);
    my $later = client();
    ($r, $d) = $later->post('/login',
        { name => $who->{name}, id_number => $who->{id_number}, mobile => $new });
    ($r, $d) = prove_mobile($later, $new);
    is($d->{next}, 'me', 'a login after the change with the new number');
    is($later->get('/me')->code, 200, 'and it stays logged in');
    is($c->get('/me')->code, 200, 'the changing session is not ended by a later login');
}

done_testing();
