# The certificates the service issues, for each key algorithm and CA kind
# (t/conf/extra.conf.in: the main server is an EC CA issuing ec-p256;
# vhosts cnca_sm2, cnca_rsa2048, cnca_rsa3072): each enrolled over HTTP,
# fetched from GET /me/certificate.pem and checked with the openssl CLI —
# chain, subject, serial, validity, key usages, key type — and the database
# row (sealed private key, no ID number in the clear); then two concurrent
# confirms, in one session and in two, issue one certificate.
use strict;
use warnings FATAL => 'all';
use utf8;

use Encode ();
use File::Basename qw(dirname);
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaFlow;

my $var = dirname($ENV{CNCA_DB});
# CNCACertValidityDays as the test config sets it (the default: 365)
my $validity_days = 365;
if (open my $fh, '<', 't/conf/extra.conf.in') {
    while (<$fh>) { $validity_days = $1 if /^\s*CNCACertValidityDays\s+(\d+)/ }
}
my @ids;                    # every ID number enrolled here, for the cleartext check

my @cases = (
    { vhost => undef, alg => 'ec-p256', ca => 'ca', other_ca => 'ca-rsa',
      sig => qr/ecdsa-with-SHA256/, key => qr/ASN1 OID: prime256v1/ },
    { vhost => 'cnca_sm2', alg => 'sm2', ca => 'ca-sm2', other_ca => 'ca', sm2 => 1,
      sig => qr/SM2-with-SM3/, key => qr/ASN1 OID: SM2/ },
    { vhost => 'cnca_rsa2048', alg => 'rsa-2048', ca => 'ca-rsa', other_ca => 'ca-sm2',
      sig => qr/sha256WithRSAEncryption/, key => qr/Public-Key: \(2048 bit\)/ },
    { vhost => 'cnca_rsa3072', alg => 'rsa-3072', ca => 'ca', other_ca => 'ca-rsa',
      sig => qr/ecdsa-with-SHA256/, key => qr/Public-Key: \(3072 bit\)/ },
);

for my $t (@cases) {
    my $n = $t->{alg};
    my $c = client(vhost => $t->{vhost});
    my $who = applicant(name => '欧阳·娜娜');
    push @ids, $who->{id_number};
    my $before = time;
    my ($r, $d) = enroll($c, %$who);
    is($r->code, 200, "$n: confirm issues a certificate");
    my $serial = $d->{serial} // '';
    $r = $c->get('/me/certificate.pem');
    is($r->code, 200, "$n: GET /me/certificate.pem");
    my $pem = $r->decoded_content;
    like($pem, qr/\A-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+\/=\n]+-----END CERTIFICATE-----\n?\z/,
        "$n: one PEM certificate and nothing else");

    # the chain, as a relying party checks it
    my $cafile = "$var/$t->{ca}/ca.crt";
    my @vfy = $t->{sm2} ? ('-vfyopt', 'distid:1234567812345678') : ();
    my ($rc, $out) = openssl([ 'verify', '-CAfile', $cafile, @vfy ], stdin => $pem);
    is($rc, 0, "$n: openssl verify -CAfile $t->{ca}/ca.crt" . ($t->{sm2} ? ' -vfyopt distid' : ''))
      or diag $out;
    like($out, qr/^stdin: OK$/m, "$n: verify says OK");
    ($rc, $out) = openssl([ 'verify', '-CAfile', "$var/$t->{other_ca}/ca.crt", @vfy ], stdin => $pem);
    isnt($rc, 0, "$n: and does not verify against another CA ($t->{other_ca})");
    if ($t->{sm2}) {
        ($rc, $out) = openssl([ 'verify', '-CAfile', $cafile, '-vfyopt', 'distid:0000000000000000' ],
            stdin => $pem);
        isnt($rc, 0, "$n: signed with the GM/T 0009 ID, so another ID does not verify");
    }

    # subject: the template's RDNs, then CN = the name as UTF8String
    my $subject = cert_text($pem, '-subject', '-nameopt', 'multiline,show_type,utf8,-esc_msb');
    like($subject, qr/commonName\s+= UTF8STRING:欧阳·娜娜$/m, "$n: CN is the name, a UTF8String");
    like($subject, qr/countryName\s+= PRINTABLESTRING:CN$/m, "$n: C=CN");
    my $issuer = cert_text($pem, '-issuer', '-nameopt', 'RFC2253');
    my $ca_subject = cert_text(slurp($cafile), '-subject', '-nameopt', 'RFC2253');
    $ca_subject =~ s/^subject=/issuer=/;
    is($issuer, $ca_subject, "$n: issuer is the CA's subject");

    # serial: >= 64 bits, positive, what /me and the database say
    my ($hex) = cert_text($pem, '-serial') =~ /serial=([0-9A-F]+)/;
    is($hex // '', $serial, "$n: the certificate's serial is the one confirm answered");
    ok(length($hex // '') >= 16, "$n: serial of at least 64 bits (" . length($hex // '') * 4 . ')');
    like(cert_text($pem, '-serial'), qr/^serial=0*[1-9A-F][0-9A-F]*$/m, "$n: serial positive, not 0");

    # validity: CNCACertValidityDays, notAfter inclusive (days * 86400 - 1 s)
    my $dates = cert_text($pem, '-dateopt', 'iso_8601', '-startdate', '-enddate');
    my ($nb) = $dates =~ /notBefore=(.+)/;
    my ($na) = $dates =~ /notAfter=(.+)/;
    $nb = asn1_time($nb);
    $na = asn1_time($na);
    ok($nb && $nb >= $before - 5 && $nb <= time + 5, "$n: valid from now");
    is($na - $nb, $validity_days * 86400 - 1,
        "$n: valid $validity_days days, notAfter the last second of them");

    # extensions: a personal signing certificate, never a TLS server's
    my $ext = cert_text($pem, '-ext', 'keyUsage,extendedKeyUsage,basicConstraints');
    like($ext, qr/X509v3 Key Usage: critical\n\s+Digital Signature, Non Repudiation\n/,
        "$n: keyUsage critical digitalSignature + nonRepudiation, nothing else");
    like($ext, qr/X509v3 Basic Constraints: critical\n\s+CA:FALSE/, "$n: CA:FALSE");
    like($ext, qr/X509v3 Extended Key Usage/, "$n: an extendedKeyUsage");
    unlike($ext, qr/Server Authentication|serverAuth/, "$n: no serverAuth");

    # key type and signature
    my $text = cert_text($pem, '-text');
    like($text, $t->{sig}, "$n: signature algorithm");
    like($text, $t->{key}, "$n: the applicant's key type");

    # what the holder's page says
    my $me = json_of($c->get('/me'));
    is($me->{certificate}{algorithm}, $n, "$n: /me algorithm");
    is($me->{certificate}{serial}, $serial, "$n: /me serial");
    is($me->{certificate}{status}, 'valid', "$n: /me status valid");

    # the row: the PEM as served, the key sealed
    my $row = certificate_row($serial);
    is($row->{algorithm}, $n, "$n: algorithm column");
    is($row->{cert_pem}, $pem, "$n: the stored certificate is the one served");
    is($row->{not_after} - $row->{not_before}, $validity_days * 86400 - 1,
        "$n: the row's validity matches");
    unlike($row->{key_enc}, qr/PRIVATE KEY|-----/, "$n: key_enc holds no PEM");
}

# ------------------------------------------------ nothing in the clear
is(db_count(q{SELECT COUNT(*) FROM certificates WHERE key_enc LIKE '%PRIVATE KEY%'}), 0,
    'no key_enc column anywhere contains "PRIVATE KEY"');
{
    my $cells = all_text_in_db();
    for my $idn (@ids) {
        my @hits = grep { /\Q$idn\E/ } @$cells;
        is(scalar @hits, 0, "ID number $idn appears nowhere in the module's tables")
          or diag explain \@hits;
    }
}

# ------------------------------------------------ two confirms at once
# one session, three confirms sent together: one issues
{
    my $c = client();
    my $who = to_confirm($c);
    push @ids, $who->{id_number};
    my $mark = audit_mark();
    my @res = in_parallel(map {
        sub { my $r = $c->post('/confirm', { mobile => $who->{mobile} }); $r->code . ' ' . $r->decoded_content }
    } 1 .. 3);
    my @codes = map { /^(\d+)/ ? $1 : 0 } @res;
    note(Encode::decode("UTF-8", join "\n", @res));
    is(scalar(grep { $_ == 200 } @codes), 1, 'one session, 3 parallel confirms: one 200')
      or diag explain \@res;
    is(scalar(grep { $_ == 409 || $_ == 401 } @codes), 2,
        'the others: 409 conflict (or 401: the session was already renewed)') or diag explain \@res;
    is(certs_of($who->{id_number}), 1, 'one certificate');
    is(scalar @{ audit_since($mark, event => 'issue', outcome => 'ok',
        subject => subject_of($who->{id_number})) }, 1, 'one issuance audited');
}

# the same person in two sessions (two phones), both at the confirm step
{
    my $who = applicant();
    push @ids, $who->{id_number};
    my $c1 = client();
    my $c2 = client();
    to_confirm($c1, %$who);
    my $m2 = mobile('139');
    to_confirm($c2, %$who, mobile => $m2);
    my @res = in_parallel(
        sub { my $r = $c1->post('/confirm', { mobile => $who->{mobile} }); $r->code . ' ' . $r->decoded_content },
        sub { my $r = $c2->post('/confirm', { mobile => $m2 }); $r->code . ' ' . $r->decoded_content },
    );
    my @codes = map { /^(\d+)/ ? $1 : 0 } @res;
    note(Encode::decode("UTF-8", join "\n", @res));
    is(join(',', sort @codes), '200,409', 'two sessions confirm at once: one 200, one 409')
      or diag explain \@res;
    my ($lost) = grep { /^409/ } @res;
    like($lost // '', qr/"error":"has_certificate"/, 'the other is told has_certificate');
    is(certs_of($who->{id_number}), 1, 'one certificate for the person');
    is(db_count('SELECT COUNT(*) FROM persons WHERE id_hash = ?', subject_of($who->{id_number})),
        1, 'one person row');
    ok(serials_of($who->{id_number}) >= 1, "the serials are on record (the loser's too)");
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

done_testing();
