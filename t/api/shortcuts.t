# The state machine holds (DESIGN.md "The enrollment state machine"): every
# request that skips, reorders or repeats a step is refused with wrong_step
# and writes no certificate (no person, no serial); a failed or erroring
# face check, a gateway that answers `error` or too late, and a face token
# from another session issue nothing either.
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaFlow;

# Nothing at all was written for this ID number: no person, no
# certificate, not even a serial on record.
sub nothing_written {
    my ($idn, $what) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is(person_of($idn), undef, "$what: no person written");
    is(certs_of($idn), 0, "$what: no certificate written");
    is(serials_of($idn), 0, "$what: no serial written");
}

sub refused {
    my ($r, $d, $what, $message) = @_;
    is($r->code, 409, "$what: 409");
    is($d->{error}, 'wrong_step', "$what: wrong_step");
    like($d->{message}, $message, "$what: says which step comes first") if $message;
}

# ------------------------------------------------ confirm too early
{
    my $c = client();
    my ($r, $d) = $c->post('/confirm', { mobile => mobile() });
    refused($r, $d, 'confirm in a fresh session', qr/请先填写个人信息/);

    my $who = applicant();
    apply($c, $who);
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($r, $d, 'confirm right after /apply', qr/请先完成手机短信验证/);

    my $mark = audit_mark();
    ($r, $d) = verify_mobile($c, $who->{mobile});
    is($d->{next}, 'face', 'carrier proof done');
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($r, $d, 'confirm before face', qr/请先完成人脸识别认证/);
    is(step_of($c), 'face', 'confirm before face: the session still stands at face');
    my $rows = audit_since($mark, event => 'confirm', subject => subject_of($who->{id_number}));
    is(scalar @$rows, 1, 'confirm before face: audited');
    is($rows->[0]{outcome}, 'wrong_step', 'audited as wrong_step');
    nothing_written($who->{id_number}, 'confirm before face');

    # the face check then still works, and so does confirm
    like(face_pass($c) // '', qr/face-done/, 'face after the refused confirm');
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    is($r->code, 200, 'then confirm issues');
    is(certs_of($who->{id_number}), 1, 'one certificate');

    # a second confirm in the same (now logged-in) session is no second issue
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($r, $d, 'confirm again after issuance');
    is(certs_of($who->{id_number}), 1, 'still one certificate');
}

# ------------------------------------------------ face too early
{
    my $c = client();
    my $who = applicant(prefix => '170');
    my ($r, $d) = face_start($c);
    refused($r, $d, 'face/start in a fresh session', qr/请先填写个人信息/);
    apply($c, $who);
    ($r, $d) = face_start($c);
    refused($r, $d, 'face/start before any proof', qr/请先完成手机实名认证或银行卡认证/);
    ($r, $d) = verify_mobile($c, $who->{mobile});
    is($d->{next}, 'bank', 'the carrier refused the 170 mobile');
    ($r, $d) = face_start($c);
    refused($r, $d, 'face/start with SMS proof but neither carrier nor bank proof');
    is(scalar @{ sandbox_faces($who->{id_number}) }, 0, 'the gateway was never asked for a face session');
    $r = $c->ua->get($c->url('/face/return?token=' . ('0' x 32)));
    is($r->code, 303, 'face/return without a face session: 303');
    like($r->header('Location'), qr{/cnca/index\.html$}, 'to the start page');
    is(step_of($c), 'bank', 'and the session stands where it was');
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($r, $d, 'confirm with SMS proof only');
    nothing_written($who->{id_number}, 'face too early');
}

# ------------------------------------------------ verify before the SMS
{
    my $c = client();
    my $who = applicant();
    my ($r, $d) = $c->post('/verify/mobile', { sms_code => '123456', agree => JSON::PP::true });
    refused($r, $d, 'verify/mobile in a fresh session', qr/请先填写个人信息/);
    apply($c, $who);
    my $mark = audit_mark();
    ($r, $d) = verify_mobile($c, $who->{mobile}, no_sms => 1, code => '123456');
    refused($r, $d, 'verify/mobile before any SMS was sent', qr/请先获取短信验证码/);
    is(step_of($c), 'apply-verify', 'the session still stands at the SMS step');
    is(scalar @{ audit_since($mark, event => 'proof.carrier') }, 0, 'the carrier was not asked');

    # a code sent, used once; using it again is a repeat
    ($r, $d) = verify_mobile($c, $who->{mobile});
    is($d->{next}, 'face', 'the real SMS step passes');
    ($r, $d) = verify_mobile($c, $who->{mobile}, no_sms => 1, code => sms_code($who->{mobile}));
    refused($r, $d, 'the same code again');

    # the bank step: only at the bank step, and only after its own SMS
    my $card = luhn_card();
    ($r, $d) = verify_bank($c, $card, mobile(), no_sms => 1, code => '123456');
    refused($r, $d, 'verify/bank after the carrier passed');
    my $c2 = client();
    my $who2 = applicant(prefix => '171');
    apply($c2, $who2);
    ($r, $d) = verify_bank($c2, $card, mobile(), no_sms => 1, code => '123456');
    refused($r, $d, 'verify/bank before the carrier check', qr/请先完成手机短信验证/);
    verify_mobile($c2, $who2->{mobile});
    ($r, $d) = verify_bank($c2, $card, mobile(), no_sms => 1, code => '123456');
    refused($r, $d, 'verify/bank before an SMS to the reserved mobile', qr/请先获取短信验证码/);
    is(step_of($c2), 'bank', 'still at the bank step');
    ($r, $d) = $c2->post('/confirm', { mobile => $who2->{mobile} });
    refused($r, $d, 'confirm at the bank step');
    nothing_written($who2->{id_number}, 'verify before the SMS');
}

# ------------------------------------------------ many wrong codes at once
# each wrong try counts, also when they come together (a try whose session
# write loses the race is checked again on what the winner wrote): no two
# answers report the same attempts left, and five tries void the code
{
    my $c = client();
    my $who = applicant();
    apply($c, $who);
    send_sms($c, $who->{mobile});
    my $code = sms_code($who->{mobile});
    my @wrong = map { sprintf('%06d', ($code + $_ * 111111) % 1000000) } 1 .. 10;
    my @res = in_parallel(map {
        my $w = $_;
        sub {
            my ($r, $d) = $c->post('/verify/mobile', { sms_code => $w, agree => JSON::PP::true });
            join ' ', $r->code, $d->{error} // 'ok', $d->{attempts_left} // '-';
        }
    } @wrong);
    note(join "\n", @res);
    my @left = sort map { (split / /)[2] } grep { /^400 sms_wrong / } @res;
    is_deeply(\@left, [ 1, 2, 3, 4 ], 'ten wrong codes at once: four answered sms_wrong, each '
        . 'with its own attempts_left') or diag explain \@res;
    is(scalar(grep { /^(400 sms_expired|409 conflict|409 wrong_step) / } @res), 6,
        'the other six: the code is void (or the session busy)') or diag explain \@res;
    my ($r, $d) = verify_mobile($c, $who->{mobile}, no_sms => 1, code => $code);
    like($r->code . ' ' . ($d->{error} // '-'), qr/^(400 sms_expired|409 wrong_step)$/,
        'then the right code: refused (400 sms_expired or 409 wrong_step)');
    is(step_of($c), 'apply-verify', 'no SMS proof');
    my $counted = db_count(q{SELECT COUNT(*) FROM audit WHERE event = 'sms.verify'}
          . q{ AND outcome IN ('wrong', 'voided') AND subject = ?}, subject_of($who->{id_number}));
    is($counted, 5, 'five wrong tries audited');
}

# ------------------------------------------------ confirm another mobile
{
    my $c = client();
    my $who = to_confirm($c);
    my $other = mobile('139');
    my ($r, $d) = $c->post('/confirm', { mobile => $other });
    refused($r, $d, 'confirm with another mobile', qr/不一致/);
    nothing_written($who->{id_number}, 'confirm with another mobile');
    ($r, $d) = $c->post('/confirm', { mobile => 'x' });
    is($r->code, 400, 'confirm with no valid mobile: 400');
    is($d->{field}, 'mobile', 'field mobile');

    # /apply again with another mobile restarts the flow: the proofs are void
    my ($r2) = apply($c, { %$who, mobile => $other });
    is($r2->code, 200, '/apply again with another mobile');
    is(step_of($c), 'apply-verify', 'the flow starts over');
    ($r, $d) = $c->post('/confirm', { mobile => $other });
    refused($r, $d, 'confirm the new mobile without proofs');
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($r, $d, 'confirm the old mobile after the restart');
    nothing_written($who->{id_number}, 'after the restart');
}

# ------------------------------------------------ a face token from another session
{
    my ($a, $b) = (client(), client());
    my $wa = applicant(name => '张三');
    my $wb = applicant(name => '李四');
    for ([ $a, $wa ], [ $b, $wb ]) {
        apply($_->[0], $_->[1]);
        my (undef, $d) = verify_mobile($_->[0], $_->[1]{mobile});
        die 'carrier' unless $d->{next} eq 'face';
    }
    my (undef, $da) = face_start($a);
    my (undef, $db) = face_start($b);
    my $cap = face_capture_raw($da->{redirect}, png(128, 128));
    is($cap->{result}, 'pass', "A's capture passes");
    my $mark = audit_mark();
    my $r = face_return($b, $cap->{redirect});
    is($r->code, 303, "B comes back with A's token: 303");
    like($r->header('Location'), qr{/cnca/face\.html\?failed=1$}, 'to the face page, failed');
    my $s = $b->session;
    is($s->{step}, 'face', 'B still stands at the face step');
    is($s->{face}{status}, 'fail', 'B sees a failed face check');
    my $rows = audit_since($mark, event => 'proof.face', subject => subject_of($wb->{id_number}));
    is($rows->[0]{outcome} // '', 'refused', 'audited: refused');
    is($rows->[0]{detail}, 'token', 'reason: the token');
    my ($rr, $d) = $b->post('/confirm', { mobile => $wb->{mobile} });
    refused($rr, $d, "B's confirm after A's token");
    nothing_written($wb->{id_number}, "a face token from another session");

    # a client that never started a face session, with A's token
    my $c = client();
    my $wc = to_face($c);
    $r = face_return($c, $cap->{redirect});
    is($r->code, 303, "C (no face session) with A's token: 303");
    unlike($r->header('Location'), qr/face-done/, 'not to face-done');
    ($rr, $d) = $c->post('/confirm', { mobile => $wc->{mobile} });
    refused($rr, $d, "C's confirm");
    nothing_written($wc->{id_number}, "C with A's token");

    # A's own way back still works: B did not use A's token up
    $r = face_return($a, $cap->{redirect});
    like($r->header('Location') // '', qr{/cnca/face-done\.html$}, "A's own return: face-done");
    ($rr, $d) = $a->post('/confirm', { mobile => $wa->{mobile} });
    is($rr->code, 200, 'A issues');
    # and B's own session (token TB) is still good too
    my $cb = face_capture_raw($db->{redirect}, png(100, 100));
    $r = face_return($b, $cb->{redirect});
    like($r->header('Location') // '', qr{face-done}, "B's own token then passes");
}

# ------------------------------------------------ face failure
{
    my $c = client();
    my $who = to_face($c);
    my $mark = audit_mark();
    my (undef, $d) = face_start($c);
    my $cap = face_capture_raw($d->{redirect}, png(32, 32));
    is($cap->{result}, 'fail', 'a 32x32 capture fails at the gateway');
    my $r = face_return($c, $cap->{redirect});
    like($r->header('Location'), qr{/cnca/face\.html\?failed=1$}, 'back to the face page, failed');
    my $s = $c->session;
    is($s->{step}, 'face', 'still at the face step');
    is($s->{face}{status}, 'fail', 'face status fail');
    is($s->{face}{message}, '认证失败：“人脸识别未通过”。如有疑问，请拨打 962600。',
        "the gateway's reason in the manual's wording");
    my $rows = audit_since($mark, event => 'proof.face', subject => subject_of($who->{id_number}));
    is($rows->[0]{outcome} // '', 'fail', 'audited: fail');
    is($rows->[0]{detail}, 'face-mismatch', 'with the reason code');
    my ($rr, $dd) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($rr, $dd, 'confirm after a failed face check');
    nothing_written($who->{id_number}, 'face failure');

    # a sandbox person whose face never matches
    my $c2 = client();
    my $idn2 = id_number();
    sandbox_person($idn2, 'face-result', 'fail', 'face-mismatch', '人脸比对不一致');
    my $who2 = to_face($c2, id_number => $idn2);
    my $loc = face_pass($c2);
    like($loc // '', qr/failed=1/, 'a forced face failure, even with a good capture');
    is($c2->session->{face}{message}, '认证失败：“人脸比对不一致”。如有疑问，请拨打 962600。',
        'its reason is shown');
    ($rr, $dd) = $c2->post('/confirm', { mobile => $who2->{mobile} });
    refused($rr, $dd, 'confirm after a forced face failure');
    nothing_written($who2->{id_number}, 'forced face failure');

    # the first applicant tries again with a good capture: it counts
    like(face_pass($c) // '', qr/face-done/, 'a second face attempt passes');
    ($rr, $dd) = $c->post('/confirm', { mobile => $who->{mobile} });
    is($rr->code, 200, 'and then confirm issues');
}

# ------------------------------------------------ the gateway answers `error` mid-flow
{
    # after the carrier passed: face/start errors
    my $c = client();
    my $who = applicant();
    apply($c, $who);
    my ($r, $d) = verify_mobile($c, $who->{mobile});
    is($d->{next}, 'face', 'carrier passes');
    sandbox_person($who->{id_number}, '*', 'error');
    my $mark = audit_mark();
    ($r, $d) = face_start($c);
    is($r->code, 502, 'face/start with the gateway in error: 502');
    is($d->{error}, 'face_start_failed', "face_start_failed (manual 6.7 'face auth accor error')");
    is(audit_since($mark, event => 'face.start')->[0]{outcome} // '', 'fail', 'audited');
    ($r, $d) = $c->post('/confirm', { mobile => $who->{mobile} });
    refused($r, $d, 'confirm after the gateway error');
    nothing_written($who->{id_number}, 'gateway error at face/start');

    # after the capture: face-result errors
    my $c2 = client();
    my $who2 = to_face($c2);
    (undef, $d) = face_start($c2);
    my $cap = face_capture_raw($d->{redirect}, png(128, 128));
    is($cap->{result}, 'pass', 'the capture itself passes');
    sandbox_person($who2->{id_number}, 'face-result', 'error');
    $r = face_return($c2, $cap->{redirect});
    like($r->header('Location'), qr{face\.html\?failed=1$}, 'face-result error: back to face, failed');
    is($c2->session->{face}{message}, '认证期间发生错误，请稍后再试！', "the manual's face_error message");
    ($r, $d) = $c2->post('/confirm', { mobile => $who2->{mobile} });
    refused($r, $d, 'confirm after face-result error');
    nothing_written($who2->{id_number}, 'gateway error at face-result');

    # at the carrier check: gateway_error, and the SMS proof does not count
    my $c3 = client();
    my $who3 = applicant();
    sandbox_person($who3->{id_number}, 'mobile-3e', 'error');
    apply($c3, $who3);
    ($r, $d) = verify_mobile($c3, $who3->{mobile});
    is($r->code, 502, 'carrier check in error: 502');
    is($d->{error}, 'gateway_error', 'gateway_error');
    is($d->{message}, '系统异常，请稍后重试！', "the manual's message");
    is(step_of($c3), 'apply-verify', 'no proof: still at the SMS step');
    ($r, $d) = face_start($c3);
    refused($r, $d, 'face/start after the carrier error');

    # too late: a gateway slower than CNCAGatewayTimeout is a failure, never a pass
    my $c4 = client();
    my $who4 = applicant();
    sandbox_person($who4->{id_number}, 'mobile-3e', 'late');
    apply($c4, $who4);
    my $t0 = time;
    ($r, $d) = verify_mobile($c4, $who4->{mobile});
    is($r->code, 502, 'carrier check too late: 502');
    ok(time - $t0 < 4, 'answered at the timeout, not when the gateway finally answers');
    is(step_of($c4), 'apply-verify', 'no proof');
    nothing_written($_->{id_number}, 'gateway error/late at the carrier') for $who3, $who4;

    ok(client()->session->{csrf}, 'the server is still healthy');
}

done_testing();
