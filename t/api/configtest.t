# `apachectl configtest` with bad values: start-up stops with a message that
# names the directive (the sysadmin's view of the configuration).
use strict;
use warnings FATAL => 'all';
use utf8;

use Apache::Test qw(-withtestmore);
use Apache::TestConfig ();
use File::Temp qw(tempdir);
use lib 't/lib';
use CncaTest;

my $top = Apache::Test::vars()->{top_dir};
my $dir = tempdir(CLEANUP => 1);
my $key = "$ENV{CNCA_DB}" =~ s{cnca\.db$}{master.key}r;

sub configtest {
    my ($lines) = @_;
    open my $fh, '>:encoding(UTF-8)', "$dir/httpd.conf" or die;
    print $fh <<"CONF";
ServerRoot $dir
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule cnca_module $top/build/mod_cnca.so
$lines
CONF
    close $fh;
    my $out = `/usr/sbin/apache2 -t -f $dir/httpd.conf 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = configtest("CNCAMasterKeyFile $key\nCNCASessionTimeout 900");
is($rc, 0, 'a good configuration passes') or diag($out);

# the database write lock is an httpd mutex the operator can place
($rc, $out) = configtest("CNCAMasterKeyFile $key\nMutex file:$dir cnca-db");
is($rc, 0, 'Mutex file:DIR cnca-db is accepted (the type is registered)') or diag($out);
($rc, $out) = configtest("CNCAMasterKeyFile $key\nMutex nosuchmech cnca-db");
isnt($rc, 0, 'Mutex with an unknown mechanism for cnca-db fails');
like($out, qr/nosuchmech/, 'and says which') or diag($out);

($rc, $out) = configtest("CNCAMasterKeyFile $key\nCNCASMSClientDailyLimit off");
is($rc, 0, 'CNCASMSClientDailyLimit off is accepted') or diag($out);

my @bad = (
    ['CNCASMSClientDailyLimit 0',        'CNCASMSClientDailyLimit'],
    ['CNCASMSClientDailyLimit never',    'CNCASMSClientDailyLimit'],
    ['CNCASessionTimeout abc',           'CNCASessionTimeout'],
    ['CNCASessionTimeout 0',             'CNCASessionTimeout'],
    ['CNCASessionMaxAge 99d',            'CNCASessionMaxAge'],
    ['CNCACookieSecure maybe',           'CNCACookieSecure'],
    ['CNCAMemcachedServers "bad host!"', 'CNCAMemcachedServers'],
    ['CNCAMemcachedServers h:70000',     'CNCAMemcachedServers'],
    ['CNCAMasterKeyFile /nonexistent/master.key', 'CNCAMasterKeyFile'],
    ["CNCAMasterKeyFile $top/README.md", 'CNCAMasterKeyFile'],
    ['CNCAHotline call-us',              'CNCAHotline'],
    ['CNCAGatewayURL ftp://x/',          'CNCAGatewayURL'],
    ['CNCAGatewayTimeout 0',             'CNCAGatewayTimeout'],
    ['CNCAGatewaySecretFile /nonexistent', 'CNCAGatewaySecretFile'],
    ['CNCAKeyAlgorithm dsa',             'CNCAKeyAlgorithm'],
    ['CNCACertValidityDays 826',         'CNCACertValidityDays'],
    ['CNCACertSubject "C=CN, CN=x"',     'CNCACertSubject'],
    ['CNCASMSSignName 【大家签】',        'CNCASMSSignName'],
    ['CNCASMSInterval 5',                'CNCASMSInterval'],
    ['CNCASMSDailyLimit 0',              'CNCASMSDailyLimit'],
    ['CNCASignatureMaxBytes 3G',         'CNCASignatureMaxBytes'],
    ['CNCASignatureMaxPixels 4000',      'CNCASignatureMaxPixels'],
    ['CNCACACertificateFile /nonexistent.crt', 'CNCACACertificateFile'],
    ['CNCASandbox perhaps',              'CNCASandbox'],
);
for my $b (@bad) {
    my ($rc, $out) = configtest("CNCAMasterKeyFile $key\n$b->[0]");
    isnt($rc, 0, "configtest fails for: $b->[0]");
    like($out, qr/\Q$b->[1]\E/, "and names $b->[1]") or diag($out);
}
done_testing();
