# "我已有证书" (manual 4, FAQ 4): a holder logs in with the verified mobile
# or proves a new one as a new applicant would; the session id changes at
# login; a new signature replaces the old one; logout ends the session.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaHolder;

sub audits {
    my ($event, $outcome, $person_id) = @_;
    return CncaTest::db_count(
        'SELECT COUNT(*) FROM audit WHERE event = ? AND outcome = ? AND person_id = ?',
        $event, $outcome, $person_id);
}

sub login_start {
    my ($c, $who, $mobile) = @_;
    return $c->post('/login',
        { name => $who->{name}, id_number => $who->{id_number}, mobile => $mobile });
}

my ($enrolled, $who) = holder();
my $pid = $who->{person_id};
my $state = durable_state();

# --- login with the certificate's verified mobile
{
    my $c = client();
    my ($res, $s) = $c->session;
    my ($sid0, $csrf0) = ($c->cookie_value, $s->{csrf});
    ok(stored_session($sid0), 'the pre-login session is in memcached');
    my ($r, $d) = login_start($c, $who, $who->{mobile});
    is($r->code, 200, 'login: POST /login 200');
    is($d->{next}, 'apply-verify', 'login: next apply-verify');
    is($c->get('/me')->code, 401, 'login: /me before the SMS step is 401');
    my $logins = audits('login', 'ok', $pid);
    ($r, $d) = prove_mobile($c, $who->{mobile});
    is($r->code, 200, 'login with the verified mobile: 200');
    is($d->{next}, 'me', 'login: next me');
    ok(!exists $d->{realname}, 'login: no carrier verdict for the verified mobile');
    like($d->{csrf} // '', qr/^[0-9a-f]{32}$/, 'login: the answer carries the new CSRF token');
    isnt($d->{csrf} // '', $csrf0, 'login: a new CSRF token');
    my $sid1 = $c->cookie_value // '';
    like($r->header('Set-Cookie') // '', qr/^cnca_session=[0-9a-f]{32};/,
        'login: a new cookie is set');
    isnt($sid1, $sid0, 'login: a new session id');
    ok(!stored_session($sid0), 'login: the pre-login session is gone from memcached');
    ok(stored_session($sid1), 'login: the new session is in memcached');
    my $me_res = $c->get('/me');
    my $me = json_of($me_res);
    is($me_res->code, 200, 'login: /me 200');
    is($me->{mobile}, masked_mobile($who->{mobile}), 'login: /me shows the verified mobile');
    is($me->{certificate}{serial}, $who->{serial}, 'login: /me shows the certificate');
    is_json_bool(json_of($c->get('/session'))->{logged_in}, 1, 'login: /session says logged in');
    is(audits('login', 'ok', $pid), $logins + 1, 'login: audited');
    is(durable_state(), $state, 'login: the database is as it was');

    # the pre-login cookie no longer works
    my $old = client_with_cookie($sid0, $csrf0);
    ($r, $d) = $old->post('/me/mobile', { mobile => other_mobile('139', $who->{mobile}) });
    is($r->code, 401, 'login: the pre-login cookie is refused on POST');
    is($d->{error}, 'no_session', 'login: no_session');
    is($old->get('/me')->code, 401, 'login: the pre-login cookie is refused on /me');

    # logout, then /me: 401, and the session is gone server-side
    my $logouts = audits('logout', 'ok', $pid);
    ($r, $d) = $c->post('/logout', undef);
    is($r->code, 200, 'logout: 200');
    is($d->{next}, 'index', 'logout: next index');
    like($r->header('Set-Cookie') // '', qr/cnca_session=;.*Max-Age=0/, 'logout: cookie cleared');
    ok(!stored_session($sid1), 'logout: the session is deleted from memcached');
    my $gone = client_with_cookie($sid1, $d->{csrf} // 'x');
    ($r, $d) = ($gone->get('/me'), undef);
    is($r->code, 401, 'logout then /me: 401');
    is(json_of($r)->{error}, 'no_session', 'logout then /me: no_session');
    ($r) = $c->get('/me');
    is($r->code, 401, 'logout: the same browser gets 401 on /me');
    is(audits('logout', 'ok', $pid), $logouts + 1, 'logout: audited');
    is(durable_state(), $state, 'logout: the database is as it was');
}

# --- FAQ 4: login with a new real-name mobile: carrier, face, confirm
my $first_mobile = $who->{mobile};
{
    allow_sms($who->{mobile});
    my $new = other_mobile('139', $who->{mobile});
    my $c = client();
    my $notices_before = scalar @{ notices($who->{mobile}) };
    my ($r, $d) = login_start($c, $who, $new);
    is($r->code, 200, 'new real-name mobile: /login 200');
    ($r, $d) = prove_mobile($c, $new);
    is($r->code, 200, 'new real-name mobile: SMS step 200');
    is_json_bool($d->{realname}, 1, 'new real-name mobile: the carrier confirms it');
    is($d->{next}, 'face', 'new real-name mobile: next face');
    is($c->get('/me')->code, 401, 'new real-name mobile: not logged in before face and confirm');
    is(person_row($pid)->{mobile}, $who->{mobile}, 'new real-name mobile: not changed yet');
    ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 409, 'new real-name mobile: /confirm before face is refused');
    is($d->{error}, 'wrong_step', 'new real-name mobile: wrong_step');
    my $loc = prove_face($c);
    like($loc // '', qr{/face-done\.html$}, 'new real-name mobile: face passed');
    is(json_of($c->get('/session'))->{step}, 'confirm', 'new real-name mobile: at confirm');
    my $sid = $c->cookie_value;
    ($r, $d) = $c->post('/confirm', { mobile => other_mobile('139', $new, $who->{mobile}) });
    is($r->code, 409, 'new real-name mobile: /confirm with another mobile is refused');
    is($d->{error}, 'wrong_step', 'new real-name mobile: another mobile: wrong_step');
    my $changes = audits('mobile.change', 'ok', $pid);
    ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 200, 'new real-name mobile: /confirm 200');
    is($d->{next}, 'me', 'new real-name mobile: next me');
    isnt($c->cookie_value, $sid, 'new real-name mobile: a new session id at login');
    ok(!stored_session($sid), 'new real-name mobile: the pre-login session is gone');
    is(person_row($pid)->{mobile}, $new, 'new real-name mobile: it is the verified mobile now');
    is(audits('mobile.change', 'ok', $pid), $changes + 1,
        'new real-name mobile: the change is audited');
    my $me = json_of($c->get('/me'));
    is($me->{mobile}, masked_mobile($new), 'new real-name mobile: /me shows it');
    is($me->{certificate}{serial}, $who->{serial}, 'new real-name mobile: the same certificate');
    is(CncaTest::db_count('SELECT COUNT(*) FROM certificates WHERE person_id = ?', $pid), 1,
        'new real-name mobile: no second certificate');
    is(scalar @{ notices($who->{mobile}) }, $notices_before + 1,
        'new real-name mobile: the old number is told of the change');
    $who->{mobile} = $new;
    $c->post('/logout', undef);
}

# --- FAQ 4: login with a new non-real-name mobile: bank card, face, confirm
{
    my $typed = other_mobile('170', $who->{mobile});    # the carrier refuses 170
    my $bank = other_mobile('136', $who->{mobile}, $typed);
    my $card = card_number();
    my $c = client();
    my ($r, $d) = login_start($c, $who, $typed);
    is($r->code, 200, 'new non-real-name mobile: /login 200');
    went_to_bank(prove_mobile($c, $typed), 'new non-real-name mobile');
    ($r, $d) = $c->post('/face/start', {});
    is($r->code, 409, 'new non-real-name mobile: no face check before the bank step');
    is($d->{error}, 'wrong_step', 'new non-real-name mobile: face before bank: wrong_step');
    ($r, $d) = prove_bank($c, $card, $bank);
    is($r->code, 200, 'new non-real-name mobile: bank step 200');
    is($d->{next}, 'face', 'new non-real-name mobile: next face');
    is($d->{mobile}, $bank, 'new non-real-name mobile: the bank-reserved mobile is the one');
    is($d->{message}, CncaFlow::MSG_BANK_PASSED, "new non-real-name mobile: the manual's message");
    my $loc = prove_face($c);
    like($loc // '', qr{/face-done\.html$}, 'new non-real-name mobile: face passed');
    ($r, $d) = $c->post('/confirm', { mobile => $typed });
    is($r->code, 409, 'new non-real-name mobile: the unproven typed mobile cannot be confirmed');
    is($d->{error}, 'wrong_step', 'new non-real-name mobile: the typed mobile: wrong_step');
    is(person_row($pid)->{mobile}, $who->{mobile}, 'new non-real-name mobile: not changed yet');
    my $notices_before = scalar @{ notices($who->{mobile}) };
    my $sid = $c->cookie_value;
    ($r, $d) = $c->post('/confirm', { mobile => $bank });
    is($r->code, 200, 'new non-real-name mobile: /confirm 200');
    is($d->{next}, 'me', 'new non-real-name mobile: next me');
    isnt($c->cookie_value, $sid, 'new non-real-name mobile: a new session id');
    is(person_row($pid)->{mobile}, $bank, 'new non-real-name mobile: the bank mobile is verified');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($bank),
        'new non-real-name mobile: /me shows it');
    is(scalar @{ notices($who->{mobile}) }, $notices_before + 1,
        'new non-real-name mobile: the old number is told of the change');
    $who->{mobile} = $bank;

    # --- signature change (manual 4 (1)), every source, each replacing the last
    my $before = $c->get('/me/signature.png')->decoded_content(charset => 'none');
    my $n = 0;
    my $sets = audits('signature.set', 'ok', $pid);
    for my $source (qw(handwrite upload photo)) {
        my $img = png(240 + 40 * $n++, 120);
        ($r, $d) = $c->post("/me/signature?source=$source", $img, type => 'image/png');
        is($r->code, 200, "signature ($source): 200");
        is($d->{next}, 'me', "signature ($source): next me (not the terms again)");
        my $row = CncaTest::db()->selectall_arrayref(
            'SELECT source, png_b64 FROM signatures WHERE person_id = ?', undef, $pid);
        is(scalar @$row, 1, "signature ($source): one signature row for the holder");
        is($row->[0][0], $source, "signature ($source): the row is the new one");
        my $served = $c->get('/me/signature.png');
        is($served->header('Content-Type'), 'image/png', "signature ($source): served as PNG");
        isnt($served->decoded_content(charset => 'none'), $before,
            "signature ($source): the previous image is replaced");
        require MIME::Base64;
        is($served->decoded_content(charset => 'none'), MIME::Base64::decode_base64($row->[0][1]),
            "signature ($source): what is served is what is stored");
        $before = $served->decoded_content(charset => 'none');
    }
    is_json_bool(json_of($c->get('/me'))->{has_signature}, 1, 'signature: /me has_signature');
    is(audits('signature.set', 'ok', $pid), $sets + 3, 'signature: each change audited');

    # a bad image changes nothing
    my $sig_state = durable_state();
    ($r, $d) = $c->post('/me/signature?source=upload', 'not an image', type => 'image/png');
    is($r->code, 400, 'signature: a bad image is refused');
    is(durable_state(), $sig_state, 'signature: the previous image stays');
    is($c->get('/me/signature.png')->decoded_content(charset => 'none'), $before,
        'signature: the previous image is still served');
    ($r, $d) = $c->post('/me/signature?source=stamp', png(200, 100), type => 'image/png');
    is($r->code, 400, 'signature: an unknown source is refused');
    is($d->{field}, 'source', 'signature: the field is named');

    # logged out: no signature change
    $c->post('/logout', undef);
    my $anon = client();
    ($r, $d) = $anon->post('/me/signature?source=upload', png(200, 100), type => 'image/png');
    is($r->code, 401, 'signature: not logged in: 401');
    is($d->{error}, 'not_logged_in', 'signature: not_logged_in');
    is(durable_state(), $sig_state, 'signature: nothing changed by the refused upload');
}

# --- the enrollment session is logged in; its signature step leads to the terms
{
    my ($r, $d) = $enrolled->post('/me/signature?source=handwrite', png(200, 100),
        type => 'image/png');
    # the phone changes above ended the enrollment session (other sessions end)
    is($r->code, 401, 'the enrollment session was ended by the phone change');
}

done_testing();
