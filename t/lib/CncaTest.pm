package CncaTest;
# What the API tests share: a browser-like client (cookie jar, CSRF header),
# the database as the module wrote it, memcached control, and test identities.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use DBI;
use HTTP::Cookies;
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use Apache::TestRequest ();

our @EXPORT = qw(client api_url db db_count id_number mobile json_of memcached_stop
  memcached_start sandbox_url);

my $json = JSON::PP->new->utf8->canonical;

our $vhost;    # a <VirtualHost> of extra.conf.in, or undef for the main server

sub base_url {
    return Apache::TestRequest::module2url($vhost, { path => '' }) =~ s{/$}{}r if $vhost;
    my $h = Apache::TestRequest::hostport();
    return "http://$h";
}
sub api_url { return base_url() . '/cnca/api' . ($_[0] // '') }
sub sandbox_url { return base_url() . '/sandbox' . ($_[0] // '') }

sub json_of {
    my ($res) = @_;
    my $data = eval { $json->decode($res->decoded_content(charset => 'none')) };
    return $data // {};
}

# A client with its own cookie jar, like one phone; vhost => NAME talks to
# that <VirtualHost> of t/conf/extra.conf.in.
sub client {
    my (%opt) = @_;
    my $ua = LWP::UserAgent->new(
        cookie_jar => HTTP::Cookies->new,
        timeout => 30,
        max_redirect => 0,
        agent => 'Mozilla/5.0 (iPhone) MicroMessenger/8.0 cnca-test',
    );
    return bless { ua => $ua, csrf => undef, vhost => $opt{vhost} }, 'CncaTest::Client';
}

sub db {
    my $file = $ENV{CNCA_DB} or die "CNCA_DB not set";
    my $dbh = DBI->connect("dbi:SQLite:dbname=$file", '', '',
        { RaiseError => 1, AutoCommit => 1, sqlite_unicode => 1 });
    $dbh->sqlite_busy_timeout(10000);
    return $dbh;
}

sub db_count {
    my ($sql, @args) = @_;
    my $dbh = db();
    my ($n) = $dbh->selectrow_array($sql, undef, @args);
    $dbh->disconnect;
    return $n;
}

# A valid GB 11643 ID number with a random sequence part (born 1990-2000).
sub id_number {
    my ($region) = @_;
    $region //= '310101';
    my $y = 1990 + int(rand(10));
    my $m = 1 + int(rand(12));
    my $d = 1 + int(rand(28));
    my $body = sprintf('%s%04d%02d%02d%03d', $region, $y, $m, $d, int(rand(1000)));
    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += substr($body, $_, 1) * $w[$_] for 0 .. 16;
    return $body . (qw(1 0 X 9 8 7 6 5 4 3 2))[$sum % 11];
}

# A random mobile with the given 3-digit prefix (139: real-name in the
# sandbox; 170/171: the carrier check fails).
sub mobile {
    my ($prefix) = @_;
    return ($prefix // '139') . sprintf('%08d', int(rand(100_000_000)));
}

sub master_key {
    my $file = $ENV{CNCA_DB} =~ s{cnca\.db$}{master.key}r;
    open my $fh, '<', $file or die "no $file";
    chomp(my $hex = <$fh>);
    return pack('H*', $hex);
}

# The keyed hash the module finds a person by (HMAC under the derived key).
sub id_hash {
    my ($idn) = @_;
    require Digest::SHA;
    my $k = Digest::SHA::hmac_sha256('cnca:id-hash', master_key());
    return Digest::SHA::hmac_sha256_hex($idn, $k);
}

sub memcached_stop {
    my $pidfile = $ENV{CNCA_MC_PIDFILE} or die;
    open my $fh, '<', $pidfile or die "no $pidfile";
    chomp(my $pid = <$fh>);
    kill 'TERM', $pid;
    for (1 .. 50) { last unless kill 0, $pid; select undef, undef, undef, 0.1 }
    unlink $pidfile;
}

sub memcached_start {
    system('memcached', '-d', '-l', '127.0.0.1', '-p', $ENV{CNCA_MC_PORT}, '-U', '0', '-m',
        '64', '-P', $ENV{CNCA_MC_PIDFILE}) == 0 or die "memcached did not start";
    for (1 .. 50) { last if -s $ENV{CNCA_MC_PIDFILE}; select undef, undef, undef, 0.1 }
}

package CncaTest::Client;
use JSON::PP;

sub ua { $_[0]{ua} }

sub url {
    my ($self, $path) = @_;
    local $CncaTest::vhost = $self->{vhost};
    return CncaTest::api_url($path);
}

sub get {
    my ($self, $path) = @_;
    return $self->{ua}->get($self->url($path));
}

# GET /session; remembers the CSRF token.
sub session {
    my ($self) = @_;
    my $res = $self->get('/session');
    my $data = CncaTest::json_of($res);
    $self->{csrf} = $data->{csrf} if $data->{csrf};
    return wantarray ? ($res, $data) : $data;
}

sub post {
    my ($self, $path, $body, %opt) = @_;
    $self->session unless $self->{csrf} || $opt{no_csrf};
    my $req = HTTP::Request->new(POST => $self->url($path));
    if (ref $body) {
        $req->content_type('application/json');
        $req->content(JSON::PP->new->utf8->encode($body));
    }
    elsif (defined $body) {
        $req->content_type($opt{type} // 'application/octet-stream');
        $req->content($body);
    }
    $req->header('X-CNCA-CSRF' => $opt{csrf} // $self->{csrf}) unless $opt{no_csrf};
    my $res = $self->{ua}->request($req);
    return wantarray ? ($res, CncaTest::json_of($res)) : $res;
}

sub cookie_value {
    my ($self) = @_;
    my $val;
    $self->{ua}->cookie_jar->scan(sub { $val = $_[2] if $_[1] =~ /cnca_session$/ });
    return $val;
}

1;
