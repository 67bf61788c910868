# Manual 3.1 (real-name mobile) and 3.2 (non-real-name mobile, bank card)
# end to end over HTTP: every step's answer, what the sandbox gateway
# received, the session's step, and the database afterwards (person,
# certificate, audit rows for each proof and the issuance); then the
# holder's pages (GET /me, the certificate); a failed bank check with the
# manual's wording.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaFlow;

# ---------------------------------------------------------------- manual 3.1
{
    my $mark = audit_mark();
    my $c = client();
    my $who = applicant(name => '刘德华', prefix => '138');
    my $subject = subject_of($who->{id_number});

    # steps 2-3: 您尚未申请数字证书
    my ($r, $d) = apply($c, $who);
    is($r->code, 200, '3.1 apply: 200');
    is($d->{next}, 'apply-verify', '3.1 apply: next apply-verify');
    is(step_of($c), 'apply-verify', '3.1 the session stands at the SMS step');

    # step 4: captcha, SMS code, terms
    ($r, $d) = send_sms($c, $who->{mobile});
    is($r->code, 200, '3.1 sms: 200');
    is($d->{resend_after}, 60, '3.1 sms: resend after 60 s');
    my $sms = CncaTest::sms_list($who->{mobile});
    is(scalar @$sms, 1, '3.1 the sandbox received one SMS for the mobile');
    like($sms->[0]{text}, qr/^【大家签】您的验证码为\d{6}，/, '3.1 signed 【大家签】 with a 6-digit code');
    my $code = sms_code($who->{mobile});
    ($r, $d) = $c->post('/verify/mobile', { sms_code => $code, agree => JSON::PP::false });
    is($r->code, 400, '3.1 verify without agreeing to the terms: 400');
    is($d->{field}, 'agree', '3.1 the field is agree');
    ($r, $d) = $c->post('/verify/mobile', { sms_code => $code, agree => JSON::PP::true });
    is($r->code, 200, '3.1 verify/mobile: 200');
    is_json_bool($d->{realname}, 1, '3.1 the carrier confirmed name + ID + mobile');
    is($d->{next}, 'face', '3.1 next face');
    is(step_of($c), 'face', '3.1 the session stands at the face step');

    # step 5: the gateway's face page and back
    ($r, $d) = face_start($c);
    is($r->code, 200, '3.1 face/start: 200');
    like($d->{redirect}, qr{/sandbox/face\?token=[0-9a-f]{32}$}, "3.1 redirect to the gateway's page");
    my $faces = sandbox_faces($who->{id_number});
    is(scalar @$faces, 1, '3.1 the gateway was asked for one face session');
    is($faces->[0]{name}, $who->{name}, '3.1 for the name');
    like($faces->[0]{return_url}, qr{/cnca/api/face/return$}, '3.1 returning to /face/return');
    unlike($d->{redirect}, qr/$who->{id_number}|$who->{mobile}/,
        '3.1 no ID number or mobile in the redirect URL');
    my $cap = face_capture_raw($d->{redirect}, png(128, 128));
    is($cap->{result}, 'pass', '3.1 the capture passes at the gateway');
    $r = face_return($c, $cap->{redirect});
    is($r->code, 303, '3.1 face/return: 303');
    like($r->header('Location'), qr{/cnca/face-done\.html$}, '3.1 to face-done');
    my $s = $c->session;
    is($s->{step}, 'confirm', '3.1 the session stands at the confirm step');
    is($s->{face}{status}, 'pass', '3.1 face status pass for the page');

    # steps 6-7: confirm the mobile, the certificate is issued
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    is($r->code, 200, '3.1 confirm: 200');
    is($d->{next}, 'signature', '3.1 next signature');
    is($d->{message}, MSG_ACCEPTED, "3.1 the manual's message");
    like($d->{serial}, qr/^[0-9A-F]{16,}$/, '3.1 a serial in hex');
    like($d->{csrf} // '', qr/^[0-9a-f]{32}$/, '3.1 a new CSRF token (logged in, new session id)');
    my $serial = $d->{serial};
    $s = $c->session;
    is_json_bool($s->{logged_in}, 1, '3.1 the session is logged in');
    is($s->{step}, 'me', '3.1 the flow is over');

    my $p = person_of($who->{id_number});
    ok($p, '3.1 a person row, found by the keyed ID hash');
    is($p->{name}, $who->{name}, '3.1 person: name');
    is($p->{mobile}, $who->{mobile}, '3.1 person: the verified mobile');
    unlike($p->{id_enc}, qr/\Q$who->{id_number}\E|\Q@{[substr($who->{id_number}, 6, 8)]}\E/,
        '3.1 person: the ID number is sealed');
    my $cert = certificate_row($serial);
    ok($cert, '3.1 the certificate row');
    is($cert->{person_id}, $p->{id}, '3.1 certificate: of the person');
    is($cert->{status}, 'valid', '3.1 certificate: valid');
    is($cert->{algorithm}, 'ec-p256', '3.1 certificate: ec-p256 on the main server');
    like($cert->{cert_pem}, qr/^-----BEGIN CERTIFICATE-----/, '3.1 certificate: PEM');
    unlike($cert->{key_enc}, qr/PRIVATE KEY|BEGIN/, '3.1 the private key is stored sealed');
    like($cert->{key_enc}, qr/^[A-Za-z0-9_-]{200,}$/, '3.1 key_enc is base64url ciphertext');
    is(db_count('SELECT COUNT(*) FROM serials WHERE serial = ? AND id_hash = ?', $serial,
            $subject), 1, '3.1 the serial was recorded for the person');

    # the audit trail: each proof, then the issuance with its serial
    my $audit = audit_since($mark, subject => $subject);
    audit_order_is($audit, [ 'apply/no_certificate', 'proof.sms/pass', 'proof.carrier/pass',
        'face.start/ok', 'proof.face/pass', 'issue/ok' ],
        '3.1 audit: apply, SMS pass, carrier pass, face start, face pass, issue, in that order');
    my ($issue) = grep { $_->{event} eq 'issue' } @$audit;
    like($issue->{detail} // '', qr/serial=$serial/, '3.1 audit: the issuance row names the serial');
    is($issue->{person_id}, $p->{id}, '3.1 audit: the issuance row names the person');
    my ($carrier) = grep { $_->{event} eq 'proof.carrier' } @$audit;
    is($carrier->{detail}, 'mobile=' . masked_mobile($who->{mobile}),
        '3.1 audit: the carrier row has the masked mobile');
    is($carrier->{client}, '127.0.0.1', '3.1 audit: the client address');
    my $leaks = grep { ($_->{detail} // '') =~ /\Q$who->{mobile}\E|\Q$who->{id_number}\E/ } @$audit;
    is($leaks, 0, '3.1 audit: no full mobile or ID number');

    # steps 10-11: the information page
    $r = $c->get('/me');
    $d = json_of($r);
    is($r->code, 200, '3.1 GET /me: 200');
    is($r->header('Cache-Control'), 'no-store', '3.1 GET /me: no-store');
    is($d->{name}, $who->{name}, '3.1 /me: name');
    is($d->{id_number}, masked_id($who->{id_number}), '3.1 /me: ID masked 4 + 10 stars + 4');
    like($d->{id_number}, qr/^\d{4}\*{10}\d{3}[\dX]$/, '3.1 /me: ID in the 3101**********123X shape');
    is($d->{mobile}, masked_mobile($who->{mobile}), '3.1 /me: mobile masked');
    like($d->{mobile}, qr/^138\*{4}\d{4}$/, '3.1 /me: mobile in the 138****5678 shape');
    is($d->{certificate}{serial}, $serial, '3.1 /me: serial');
    is($d->{certificate}{algorithm}, 'ec-p256', '3.1 /me: algorithm');
    is($d->{certificate}{status}, 'valid', '3.1 /me: status');
    like($d->{certificate}{not_before}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/,
        '3.1 /me: validity from, China time');
    like($d->{certificate}{not_after}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/,
        '3.1 /me: validity to');
    is_json_bool($d->{has_signature}, 0, '3.1 /me: no signature yet');
    my $body = $r->decoded_content;
    unlike($body, qr/\Q$who->{id_number}\E|\Q$who->{mobile}\E/, '3.1 /me: nothing unmasked');

    $r = $c->get('/me/certificate.pem');
    is($r->code, 200, '3.1 certificate.pem: 200');
    is($r->header('Content-Type'), 'application/x-pem-file', '3.1 certificate.pem: type');
    is($r->decoded_content, $cert->{cert_pem}, '3.1 certificate.pem: the stored certificate');
    unlike($r->decoded_content, qr/PRIVATE/, '3.1 certificate.pem: the public certificate only');

    # and /apply again for the same person: has_certificate
    my $c2 = client();
    ($r, $d) = apply($c2, $who);
    is($r->code, 409, '3.1 apply again: 409');
    is($d->{error}, 'has_certificate', '3.1 apply again: has_certificate');
}

# ---------------------------------------------------------------- manual 3.2
{
    my $mark = audit_mark();
    my $c = client();
    my $who = applicant(name => '王小丽', prefix => '170');
    my $subject = subject_of($who->{id_number});
    my $bank_mobile = mobile('139');
    my $card = luhn_card('622202', 19);

    my ($r, $d) = apply($c, $who);
    is($r->code, 200, '3.2 apply with a 170 mobile: 200');

    # step 5: the carrier does not confirm
    ($r, $d) = verify_mobile($c, $who->{mobile});
    is($r->code, 200, '3.2 verify/mobile: 200');
    is_json_bool($d->{realname}, 0, '3.2 realname false');
    is($d->{next}, 'bank', '3.2 next bank');
    is($d->{message}, MSG_NOT_REALNAME, "3.2 the manual's message");
    is(step_of($c), 'bank', '3.2 the session stands at the bank step');
    ($r, $d) = face_start($c);
    is($r->code, 409, '3.2 face before the bank proof: 409');
    is($d->{error}, 'wrong_step', '3.2 wrong_step');

    # step 6: card + bank-reserved mobile + its SMS code
    ($r, $d) = send_sms($c, $bank_mobile);
    is($r->code, 200, '3.2 an SMS code to the bank-reserved mobile');
    is(scalar @{ CncaTest::sms_list($bank_mobile) }, 1, '3.2 the sandbox sent it to that mobile');
    ($r, $d) = verify_bank($c, $card, $bank_mobile, no_sms => 1);
    is($r->code, 200, '3.2 verify/bank: 200');
    is($d->{next}, 'face', '3.2 next face');
    is($d->{mobile}, $bank_mobile, '3.2 the bank-reserved mobile becomes the flow mobile');
    is($d->{message}, MSG_BANK_PASSED, "3.2 the manual's message");
    my $s = $c->session;
    is($s->{mobile}, $bank_mobile, '3.2 the session holds the bank-reserved mobile');
    is($s->{step}, 'face', '3.2 the session stands at the face step');

    # step 7: face
    my $loc = face_pass($c);
    like($loc // '', qr{face-done\.html$}, '3.2 face passes');

    # step 8: confirm the bank-reserved mobile, not the one first typed
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    is($r->code, 409, '3.2 confirming the non-real-name mobile: 409');
    is($d->{error}, 'wrong_step', '3.2 wrong_step');
    is(certs_of($who->{id_number}), 0, '3.2 no certificate for it');
    ($r, $d) = $c->post('/confirm', { mobile => $bank_mobile });
    is($r->code, 200, '3.2 confirm the bank-reserved mobile: 200');
    is($d->{next}, 'signature', '3.2 next signature');
    is($d->{message}, MSG_ACCEPTED, "3.2 the manual's message");
    my $serial = $d->{serial};
    is(certs_of($who->{id_number}), 1, '3.2 one certificate');
    my $p = person_of($who->{id_number});
    is($p->{mobile}, $bank_mobile, "3.2 the certificate's mobile is the bank-reserved one");

    my $audit = audit_since($mark, subject => $subject);
    audit_order_is($audit, [ 'proof.sms/pass', 'proof.carrier/fail', 'proof.sms/pass',
        'proof.bank/pass', 'proof.face/pass', 'issue/ok' ],
        '3.2 audit: SMS pass, carrier fail, SMS pass (reserved mobile), bank pass, face pass, issue');
    my @sms = map { $_->{detail} } grep { $_->{event} eq 'proof.sms' } @$audit;
    is_deeply(\@sms, [ 'mobile=' . masked_mobile($who->{mobile}), 'mobile=' . masked_mobile($bank_mobile) ],
        '3.2 audit: each SMS proof names its (masked) mobile');
    my ($cf) = grep { $_->{event} eq 'proof.carrier' } @$audit;
    is($cf->{detail}, 'mobile=' . masked_mobile($who->{mobile}) . ' reason=mismatch',
        '3.2 audit: the carrier failure has its reason code');
    my ($bp) = grep { $_->{event} eq 'proof.bank' } @$audit;
    is($bp->{detail}, 'mobile=' . masked_mobile($bank_mobile) . ' card=**** **** **** '
          . substr($card, -4), '3.2 audit: the card is masked');
    unlike($bp->{detail}, qr/\Q$card\E/, '3.2 audit: no full card number');
    my $cells = all_text_in_db();
    is(scalar(grep { /\Q$card\E/ } @$cells), 0, '3.2 the card number is stored nowhere');

    $d = json_of($c->get('/me'));
    is($d->{mobile}, masked_mobile($bank_mobile), '3.2 /me: the bank-reserved mobile, masked');
    is($d->{certificate}{serial}, $serial, '3.2 /me: the serial');
}

# ----------------------------------------------------- 3.2 bank failures
{
    # the sandbox rule: a 170/171 reserved mobile fails the four-element check
    my $mark = audit_mark();
    my $c = client();
    my $who = applicant(prefix => '171');
    apply($c, $who);
    my ($r, $d) = verify_mobile($c, $who->{mobile});
    is($d->{next}, 'bank', 'bank failure: at the bank step');
    ($r, $d) = verify_bank($c, luhn_card('622848', 19), mobile('170'));
    is($r->code, 422, 'bank check fails: 422');
    is($d->{error}, 'verify_failed', 'verify_failed');
    is($d->{message}, '认证失败：“银行卡信息验证不一致”。如有疑问，请拨打 962600。',
        "the manual's 认证失败：“REASON”。如有疑问，请拨打 962600。");
    is(step_of($c), 'bank', 'still at the bank step');
    ($r, $d) = face_start($c);
    is($d->{error}, 'wrong_step', 'face after a failed bank check: wrong_step');
    my $rows = audit_since($mark, subject => subject_of($who->{id_number}), event => 'proof.bank');
    is(scalar @$rows, 1, 'one proof.bank audit row');
    is($rows->[0]{outcome}, 'fail', 'outcome fail');
    like($rows->[0]{detail}, qr/reason=mismatch/, 'with the reason code');

    # a sandbox person: the bank says why, and that is what the page shows
    my $c2 = client();
    my $who2 = applicant(prefix => '170');
    sandbox_person($who2->{id_number}, 'bankcard-4e', 'fail', 'card-frozen', '银行卡已冻结');
    apply($c2, $who2);
    verify_mobile($c2, $who2->{mobile});
    ($r, $d) = verify_bank($c2, luhn_card('621700', 19), mobile('139'));
    is($r->code, 422, 'a forced bank failure: 422');
    is($d->{message}, '认证失败：“银行卡已冻结”。如有疑问，请拨打 962600。',
        "the gateway's reason in the manual's wording");
    $rows = audit_since($mark, subject => subject_of($who2->{id_number}), event => 'proof.bank');
    like($rows->[0]{detail} // '', qr/reason=card-frozen/, 'audited with the reason code');

    # a card that fails Luhn never reaches the gateway
    ($r, $d) = verify_bank($c2, luhn_card('621700', 19, 1), mobile('139'));
    is($r->code, 400, 'a card failing Luhn: 400');
    is($d->{field}, 'card_number', 'field card_number');
    is(certs_of($who->{id_number}) + certs_of($who2->{id_number}), 0, 'no certificate for either');
}

done_testing();
