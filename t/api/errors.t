# Manual 6.7 "异常提示说明": every row of the table, reached the way it
# happens (the database cannot be read or written, the gateway fails or
# refuses), with its exact message, HOTLINE from CNCAHotline (962600 here),
# and nothing changed in the database.
#
# The database rows: the vhost cnca_nodb is the same service with a
# database that cannot be opened. Cookies are not separated by port and all
# vhosts share memcached and the master key, so a session made on the main
# server is the same session there: a flow is taken to the step before on
# the main server and the step itself is sent to cnca_nodb.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaHolder;

my $NODB = 'cnca_nodb';
my %MSG = (
    issue_failed => '申请数字证书失败，请尝试重新采集或致电 962600 咨询！',
    query_failed => '查询证书信息出现异常，请尝试重新采集或致电 962600 咨询！',
    change_submit_failed => '申请数字证书失败，请确认您提交的信息。如有疑问，请拨打 962600。',
    mobile_change_failed => '修改手机号码失败，请重新修改或致电 962600 咨询！',
    face_error => '认证期间发生错误，请稍后再试！',
    lookup_failed => '系统异常，请稍后重试！',
    face_start_failed =>
      'face auth accor error（进入人脸识别环节时系统处理您的信息失败，请稍后重试或致电 962600 咨询）',
    mobile_update_failed =>
      'modify mobile accor error（人脸识别已通过，但修改手机号码失败，请重新修改或致电 962600 咨询）',
);
sub verify_failed { return "认证失败：“$_[0]”。如有疑问，请拨打 962600。" }

# The answer is the manual's row: status, code and the exact message.
sub row_is {
    my ($r, $d, $status, $code, $name) = @_;
    is($r->code, $status, "$name: HTTP $status");
    is($d->{error}, $code, "$name: error $code");
    is($d->{message}, $MSG{$code}, "$name: the manual's message");
}

sub nodb {
    my ($c, $code) = @_;
    return with_vhost($c, $NODB, $code);
}

# A logged-in holder whose phone change stands at the face step: the
# carrier did not confirm the new number (a sandbox person), the bank did
# with it as the bank-reserved mobile.
sub change_at_face {
    my ($c, $who, $new) = @_;
    sandbox_person($who->{id_number}, 'mobile-3e', 'fail');
    my ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    die 'me/mobile: ' . $r->code unless $r->code == 200;
    ($r, $d) = prove_mobile($c, $new);
    die 'not the bank step: ' . $r->decoded_content unless ($d->{next} // '') eq 'bank';
    allow_sms($new);
    ($r, $d) = prove_bank($c, card_number(), $new);
    die 'bank: ' . $r->decoded_content unless ($d->{next} // '') eq 'face';
}

# An applicant (manual 3.1) whose face check passed: the next step is /confirm.
sub apply_at_confirm {
    my ($c, $who) = @_;
    my ($r, $d) = $c->post('/apply', $who);
    die 'apply: ' . $r->code unless $r->code == 200;
    ($r, $d) = prove_mobile($c, $who->{mobile});
    die 'verify: ' . $r->decoded_content unless ($d->{next} // '') eq 'face';
    my $loc = prove_face($c);
    die 'face: ' . ($loc // 'none') unless ($loc // '') =~ /face-done/;
}

sub new_person {
    return { name => '李小龙', id_number => id_number(), mobile => mobile($_[0] // '139') };
}

# --- 系统异常，请稍后重试！ — 查询用户证书是否存在时，系统出现异常
{
    my ($c, $who) = holder();
    my $state = durable_state();
    my $x = client();
    my ($r, $d) = nodb($x, sub {
        $x->post('/login', { name => $who->{name}, id_number => $who->{id_number},
            mobile => $who->{mobile} });
    });
    row_is($r, $d, 503, 'lookup_failed', 'login, certificate lookup fails');
    is($x->session->{flow}, undef, 'lookup_failed: no login flow was started');
    ($r, $d) = nodb($x, sub { $x->post('/apply', new_person()) });
    row_is($r, $d, 503, 'lookup_failed', 'apply, certificate lookup fails');
    is($x->session->{flow}, undef, 'lookup_failed: no apply flow was started');

    # the verified mobile's SMS code is right, but the holder cannot be looked up
    ($r, $d) = $x->post('/login', { name => $who->{name}, id_number => $who->{id_number},
        mobile => $who->{mobile} });
    my $code = CncaHolder::new_sms_code($x, $who->{mobile});
    ($r, $d) = nodb($x, sub {
        $x->post('/verify/mobile', { sms_code => $code, agree => JSON::PP::true });
    });
    row_is($r, $d, 503, 'lookup_failed', 'login SMS step, holder lookup fails');
    is_json_bool($x->session->{logged_in}, 0, 'lookup_failed: not logged in');
    is($x->get('/me')->code, 401, 'lookup_failed: /me 401');
    is(durable_state(), $state, 'lookup_failed: nothing changed in the database');
}

# --- 查询证书信息出现异常 — 查询用户的个人证书信息时系统出现异常
{
    my ($c, $who) = holder();
    $c->post('/me/signature?source=upload', png(200, 100), type => 'image/png');
    my $state = durable_state();
    my ($r, $d);
    for my $path ('/me', '/me/certificate.pem', '/me/signature.png') {
        $r = nodb($c, sub { $c->get($path) });
        row_is($r, json_of($r), 503, 'query_failed', "GET $path, the database cannot be read");
    }
    ($r, $d) = nodb($c, sub { $c->post('/me/mobile', { mobile => other_mobile('139', $who->{mobile}) }) });
    row_is($r, $d, 503, 'query_failed', 'POST /me/mobile, the holder cannot be read');
    is($c->session->{flow}, undef, 'query_failed: no phone change was started');
    $r = nodb($c, sub { $c->post('/me/signature?source=handwrite', png(300, 100),
        type => 'image/png') });
    is($r->code, 503, 'a signature that cannot be stored: 503');
    is(durable_state(), $state, 'query_failed: nothing changed in the database');
    my $me = json_of($c->get('/me'));
    is($me->{mobile}, masked_mobile($who->{mobile}), 'query_failed: the main server still answers');
}

# --- 申请数字证书失败，请尝试重新采集或致电 962600 咨询！ — 提交用户的认证信息失败
{
    my $c = client();
    my $who = new_person();
    apply_at_confirm($c, $who);
    my $state = durable_state();
    my ($r, $d) = nodb($c, sub { $c->post('/confirm', { mobile => $who->{mobile} }) });
    row_is($r, $d, 503, 'issue_failed', 'confirm, the certificate cannot be stored');
    is(durable_state(), $state, 'issue_failed: nothing changed in the database');
    is(CncaTest::db_count('SELECT COUNT(*) FROM persons WHERE id_hash = ?',
        CncaTest::id_hash($who->{id_number})), 0, 'issue_failed: no person row');
    is_json_bool($c->session->{logged_in}, 0, 'issue_failed: not logged in');
    # "请尝试重新采集": the proofs stand, the applicant can submit again
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    is($r->code, 200, 'issue_failed: a second submit on a working server issues');
    is(CncaTest::db_count('SELECT COUNT(*) FROM certificates WHERE serial = ?', $d->{serial} // ''),
        1, 'issue_failed: one certificate after the retry');
}

# --- 认证失败：“XXXXXX”。如有疑问，请拨打 962600。 — the gateway's reason in the quotes
{
    # the bank refuses, with its reason (manual 3.2, an applicant)
    my $c = client();
    my $who = new_person('170');
    sandbox_person($who->{id_number}, 'bankcard-4e', 'fail', 'card-closed', '银行卡状态异常');
    my ($r, $d) = $c->post('/apply', $who);
    ($r, $d) = prove_mobile($c, $who->{mobile});
    is($d->{next}, 'bank', 'verify_failed: a 170 number goes to the bank step');
    my $state = durable_state();
    ($r, $d) = prove_bank($c, card_number(), other_mobile('136'));
    is($r->code, 422, 'verify_failed (bank, apply): HTTP 422');
    is($d->{error}, 'verify_failed', 'verify_failed (bank, apply): error verify_failed');
    is($d->{message}, verify_failed('银行卡状态异常'),
        'verify_failed (bank, apply): the reason in the quotes');
    is($c->session->{step}, 'bank', 'verify_failed: still at the bank step');
    is(durable_state(), $state, 'verify_failed (bank, apply): nothing changed');

    # the bank refuses during a holder's phone change
    my ($h, $hw) = holder();
    my $new = other_mobile('138', $hw->{mobile});
    sandbox_person($hw->{id_number}, 'mobile-3e', 'fail');
    sandbox_person($hw->{id_number}, 'bankcard-4e', 'fail', 'name-mismatch', '户名与证件不符');
    $state = durable_state();
    ($r, $d) = $h->post('/me/mobile', { mobile => $new });
    ($r, $d) = prove_mobile($h, $new);
    allow_sms($new);
    ($r, $d) = prove_bank($h, card_number(), $new);
    is($r->code, 422, 'verify_failed (bank, phone change): HTTP 422');
    is($d->{message}, verify_failed('户名与证件不符'),
        'verify_failed (bank, phone change): the reason in the quotes');
    is(person_row($hw->{person_id})->{mobile}, $hw->{mobile},
        'verify_failed (bank, phone change): the mobile is unchanged');
    is(durable_state(), $state, 'verify_failed (bank, phone change): nothing changed');

    # the face check fails, with its reason: shown on the face page
    my ($f, $fw) = holder();
    my $fnew = other_mobile('138', $fw->{mobile});
    change_at_face($f, $fw, $fnew);
    sandbox_person($fw->{id_number}, 'face-result', 'fail', 'face-mismatch', '人脸比对不一致');
    $state = durable_state();
    my $loc = prove_face($f);
    like($loc // '', qr{/face\.html\?failed=1$}, 'verify_failed (face): back to the face page');
    my $s = $f->session;
    is($s->{face}{status}, 'fail', 'verify_failed (face): failed');
    is($s->{face}{message}, verify_failed('人脸比对不一致'),
        'verify_failed (face): the reason in the quotes');
    ($r, $d) = $f->post('/confirm', { mobile => $fnew });
    is($r->code, 409, 'verify_failed (face): no confirm');
    is(durable_state(), $state, 'verify_failed (face): nothing changed');
}

# --- 申请数字证书失败，请确认您提交的信息。如有疑问，请拨打 962600。 — 修改手机号出现异常
# (a phone change whose carrier or bank check the gateway could not answer)
{
    my ($c, $who) = holder();
    my $old_notices = scalar @{ notices($who->{mobile}) };
    my $state = durable_state();
    my $new = other_mobile('139', $who->{mobile});
    sandbox_person($who->{id_number}, 'mobile-3e', 'error');
    my ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    ($r, $d) = prove_mobile($c, $new);
    row_is($r, $d, 502, 'change_submit_failed', 'phone change, the carrier check answers error');
    is(person_row($who->{person_id})->{mobile}, $who->{mobile},
        'change_submit_failed (carrier): the mobile is unchanged');

    # the bank check answers error
    sandbox_person($who->{id_number}, 'mobile-3e', 'fail');
    sandbox_person($who->{id_number}, 'bankcard-4e', 'error');
    allow_sms($new);
    ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    ($r, $d) = prove_mobile($c, $new);
    is($d->{next}, 'bank', 'change_submit_failed: to the bank step');
    allow_sms($new);
    ($r, $d) = prove_bank($c, card_number(), $new);
    row_is($r, $d, 502, 'change_submit_failed', 'phone change, the bank check answers error');

    # the carrier check does not answer in time (CNCAGatewayTimeout 2)
    sandbox_person($who->{id_number}, 'mobile-3e', 'late');
    allow_sms($new);
    ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    ($r, $d) = prove_mobile($c, $new);
    row_is($r, $d, 502, 'change_submit_failed', 'phone change, the carrier check times out');

    is(durable_state(), $state, 'change_submit_failed: nothing changed in the database');
    is(scalar @{ notices($who->{mobile}) }, $old_notices, 'change_submit_failed: no notice sent');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($who->{mobile}),
        'change_submit_failed: /me shows the old mobile');

    # the same gateway error for an applicant is the general system error
    my $ap = client();
    my $p = new_person();
    sandbox_person($p->{id_number}, 'mobile-3e', 'error');
    ($r, $d) = $ap->post('/apply', $p);
    ($r, $d) = prove_mobile($ap, $p->{mobile});
    is($r->code, 502, 'an applicant whose carrier check errs: 502');
    is($d->{error}, 'gateway_error', 'an applicant whose carrier check errs: gateway_error');
    is($d->{message}, '系统异常，请稍后重试！', 'an applicant whose carrier check errs: the message');
}

# --- 修改手机号码失败，请重新修改或致电 962600 咨询！ — 修改手机号出现异常
# (a real-name phone change: the carrier confirmed, the database cannot take it)
{
    my ($c, $who) = holder();
    allow_sms($who->{mobile});
    my $other = client();
    $other->post('/login', { name => $who->{name}, id_number => $who->{id_number},
        mobile => $who->{mobile} });
    prove_mobile($other, $who->{mobile});
    my $state = durable_state();
    my $notices = scalar @{ notices($who->{mobile}) };
    my $new = other_mobile('139', $who->{mobile});
    my ($r, $d) = $c->post('/me/mobile', { mobile => $new });
    my $code = CncaHolder::new_sms_code($c, $new);
    ($r, $d) = nodb($c, sub {
        $c->post('/verify/mobile', { sms_code => $code, agree => JSON::PP::true });
    });
    row_is($r, $d, 503, 'mobile_change_failed', 'real-name phone change, the update fails');
    is(durable_state(), $state, 'mobile_change_failed: nothing changed in the database');
    is(scalar @{ notices($who->{mobile}) }, $notices, 'mobile_change_failed: no notice sent');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($who->{mobile}),
        'mobile_change_failed: still logged in, /me shows the old mobile');
    is($other->get('/me')->code, 200, "mobile_change_failed: the holder's other session stands");
}

# --- 认证期间发生错误，请稍后再试！ — 人脸识别后，获取用户信息失败
{
    my ($c, $who) = holder();
    my $new = other_mobile('138', $who->{mobile});
    change_at_face($c, $who, $new);
    sandbox_person($who->{id_number}, 'face-result', 'error');
    my $state = durable_state();
    my $loc = prove_face($c);
    like($loc // '', qr{/face\.html\?failed=1$}, 'face_error: back to the face page');
    my $s = $c->session;
    is($s->{face}{status}, 'fail', 'face_error: the face check did not pass');
    is($s->{face}{message}, $MSG{face_error}, "face_error: the manual's message");
    is($s->{step}, 'face', 'face_error: still at the face step');
    my ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 409, 'face_error: no confirm');
    is(durable_state(), $state, 'face_error: nothing changed in the database');
}

# --- face auth accor error — 进入人脸识别环节，系统对用户信息处理失败
{
    my ($c, $who) = holder();
    my $new = other_mobile('138', $who->{mobile});
    change_at_face($c, $who, $new);
    sandbox_person($who->{id_number}, 'face-start', 'error');
    my $state = durable_state();
    my ($r, $d) = $c->post('/face/start', {});
    row_is($r, $d, 502, 'face_start_failed', 'the face session cannot be started');
    like($d->{message}, qr/^face auth accor error（\p{Han}/,
        'face_start_failed: the original code with a Chinese explanation beside it');
    is($d->{redirect}, undef, 'face_start_failed: no redirect');
    is($c->session->{step}, 'face', 'face_start_failed: still at the face step');
    is(durable_state(), $state, 'face_start_failed: nothing changed in the database');
    # an applicant meets it too
    my $ap = client();
    my $p = new_person();
    sandbox_person($p->{id_number}, 'face-start', 'fail');
    $ap->post('/apply', $p);
    prove_mobile($ap, $p->{mobile});
    ($r, $d) = $ap->post('/face/start', {});
    row_is($r, $d, 502, 'face_start_failed', 'an applicant whose face session is refused');
}

# --- modify mobile accor error — 人脸识别通过后，修改手机失败
{
    my ($c, $who) = holder();
    my $new = other_mobile('138', $who->{mobile});
    change_at_face($c, $who, $new);
    my $loc = prove_face($c);
    like($loc // '', qr{/face-done\.html$}, 'mobile_update_failed: the face check passed');
    my $state = durable_state();
    my $notices = scalar @{ notices($who->{mobile}) };
    my ($r, $d) = nodb($c, sub { $c->post('/confirm', { mobile => $new }) });
    row_is($r, $d, 503, 'mobile_update_failed', 'phone change after face, the update fails');
    like($d->{message}, qr/^modify mobile accor error（\p{Han}/,
        'mobile_update_failed: the original code with a Chinese explanation beside it');
    is(durable_state(), $state, 'mobile_update_failed: nothing changed in the database');
    is(scalar @{ notices($who->{mobile}) }, $notices, 'mobile_update_failed: no notice sent');
    is(json_of($c->get('/me'))->{mobile}, masked_mobile($who->{mobile}),
        'mobile_update_failed: /me shows the old mobile');
    # the proofs stand: submitting again on a working server changes it
    ($r, $d) = $c->post('/confirm', { mobile => $new });
    is($r->code, 200, 'mobile_update_failed: a second submit changes the mobile');
    is(person_row($who->{person_id})->{mobile}, $new, 'mobile_update_failed: changed then');

    # FAQ 4: a login with a new mobile, after face, whose update fails
    my ($h, $hw) = holder();
    my $l = client();
    my $lnew = other_mobile('139', $hw->{mobile});
    $l->post('/login', { name => $hw->{name}, id_number => $hw->{id_number}, mobile => $lnew });
    ($r, $d) = prove_mobile($l, $lnew);
    is($d->{next}, 'face', 'login with a new mobile: to the face step');
    like(prove_face($l) // '', qr{/face-done\.html$}, 'login with a new mobile: face passed');
    $state = durable_state();
    ($r, $d) = nodb($l, sub { $l->post('/confirm', { mobile => $lnew }) });
    row_is($r, $d, 503, 'mobile_update_failed', 'login with a new mobile, the update fails');
    is(durable_state(), $state, 'mobile_update_failed (login): nothing changed');
    is_json_bool($l->session->{logged_in}, 0, 'mobile_update_failed (login): not logged in');
}

done_testing();
