package CncaTest;
# What the API tests share: a browser-like client (cookie jar, CSRF header),
# the database as the module wrote it, memcached control, and test identities.
use strict;
use warnings FATAL => 'all';
use utf8;

use Exporter 'import';
use Encode ();
use Test::More ();
use DBI;
use HTTP::Cookies;
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use Apache::TestRequest ();

our @EXPORT = qw(client api_url db db_count id_number mobile json_of memcached_stop
  memcached_start sandbox_url sms_code sandbox_person face_capture png enroll sms_list
  otp_hash audit_count apply_flow client_address error_log_offset error_log_leaks
  memcached_dump memcached_leaks gateway_secret other_digits parallel_post
  parallel_requests is_json_bool);

my $json = JSON::PP->new->utf8->canonical;

# test names and diagnostics in Chinese, printed as UTF-8
for my $fh (map { Test::More->builder->$_ } qw(output failure_output todo_output)) {
    binmode $fh, ':encoding(UTF-8)';
}

our $vhost;    # a <VirtualHost> of extra.conf.in, or undef for the main server

sub base_url {
    # module2url remembers the vhost in a global that hostport() then
    # honours: keep it to this call, or every later main-server URL would
    # go to the last vhost used
    local $Apache::TestRequest::Module;
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
# that <VirtualHost> of t/conf/extra.conf.in; from => ADDRESS connects from
# that local address (any of 127.0.0.0/8, see client_address), so the
# module sees a client address that no other test used.
sub client {
    my (%opt) = @_;
    my $ua = LWP::UserAgent->new(
        cookie_jar => HTTP::Cookies->new,
        timeout => 30,
        max_redirect => 0,
        agent => 'Mozilla/5.0 (iPhone) MicroMessenger/8.0 cnca-test',
        $opt{from} ? (local_address => $opt{from}) : (),
    );
    return bless { ua => $ua, csrf => undef, vhost => $opt{vhost} }, 'CncaTest::Client';
}

# A loopback address of its own for a test (127.x.y.z; the whole /8 is local).
sub client_address {
    return sprintf('127.%d.%d.%d', 2 + int(rand(250)), int(rand(256)), 2 + int(rand(250)));
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

# HMAC-SHA256 (hex) of value under the key derived from the master key
# for purpose ("cnca:" . purpose), as the module keys its lookups.
sub keyed_hash {
    my ($purpose, $value) = @_;
    require Digest::SHA;
    my $k = Digest::SHA::hmac_sha256("cnca:$purpose", master_key());
    return Digest::SHA::hmac_sha256_hex($value, $k);
}

# The keyed hash the module finds a person by (HMAC under the derived key).
sub id_hash { return keyed_hash('id-hash', $_[0]) }

# Another digit string of the same length (the code plus K, default 1,
# wrapping). It works on a copy: arithmetic on the caller's own variable
# would make JSON::PP send that code as a JSON number afterwards.
sub other_digits {
    my ($digits, $k) = @_;
    my $n = length $digits;
    return sprintf('%0*d', $n, ($digits + ($k // 1)) % (10**$n));
}

# Passes when v is a JSON boolean (not a number, string or missing) of the
# truth of want, as API.md writes `realname:true` / `realname:false`.
sub is_json_bool {
    my ($v, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = Test::More::ok(JSON::PP::is_bool($v) && !$v == !$want, $name);
    Test::More::diag('got ' . (defined $v ? "'$v'" : 'undef') . ', want JSON '
          . ($want ? 'true' : 'false')) unless $ok;
    return $ok;
}

# The keyed hash the SMS limits count a mobile by (sms_sends.mobile_hash):
# HMAC-SHA256 of the mobile under the key derived for "otp".
sub otp_hash { return keyed_hash('otp', $_[0]) }

# The shared secret of the gateway and the sandbox (the file's text, trimmed).
sub gateway_secret {
    my $file = $ENV{CNCA_DB} =~ s{cnca\.db$}{gateway.secret}r;
    open my $fh, '<', $file or die "no $file";
    local $/;
    my $s = <$fh>;
    $s =~ s/^\s+|\s+$//g;
    return $s;
}

# Audit rows matching event, outcome and (optionally) a detail LIKE pattern
# and the client address.
sub audit_count {
    my (%w) = @_;
    my (@where, @args);
    for my $col (qw(event outcome client subject)) {
        next unless defined $w{$col};
        push @where, "$col = ?";
        push @args, $w{$col};
    }
    if (defined $w{detail}) {
        push @where, 'detail LIKE ?';
        push @args, $w{detail};
    }
    if (defined $w{since}) {
        push @where, 'at >= ?';
        push @args, $w{since};
    }
    return db_count('SELECT COUNT(*) FROM audit' . (@where ? ' WHERE ' . join(' AND ', @where) : ''),
        @args);
}

# POST /apply for a new person (or the given one); dies unless 200. Returns
# the identity used: { name, id_number, mobile }.
sub apply_flow {
    my ($c, %opt) = @_;
    my %who = (
        name => $opt{name} // '刘德华',
        id_number => $opt{id_number} // id_number(),
        mobile => $opt{mobile} // mobile('139'),
    );
    my ($r) = $c->post('/apply', \%who);
    die 'apply: ' . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    return \%who;
}

# httpd's error_log of this test run (Apache::Test's t_logs).
sub error_log_path {
    require Apache::Test;
    return Apache::Test::vars('t_logs') . '/error_log';
}

# Where the error_log ends now: error_log_leaks reads from there.
sub error_log_offset { return -s error_log_path() // 0 }

# The error_log lines written since OFFSET that show one of the values in
# the clear. Values are matched as whole tokens (not inside a longer run of
# digits or letters). Two kinds of lines are the test rig's own and skipped:
# the requests the tests make to the sandbox's SMS inbox (API.md puts the
# mobile in that URL) and httpd's trace of the sandbox captcha header
# (CNCASandbox On sends the answer there by design); mpm_event's trace
# lines are skipped because they are nothing but timer numbers, and so are
# the numbers every line carries (pid, tid, client port, source line) and
# measures (2000 ms, 514 bytes). Short values (the 4-digit captcha answers)
# are looked for only in the lines of mod_cnca and mod_cnca_sandbox, where
# they would be a leak, not chance.
sub error_log_leaks {
    my ($offset, @values) = @_;
    my @found;
    open my $fh, '<:raw', error_log_path() or return ['no error_log'];
    seek $fh, $offset, 0;
    while (my $line = <$fh>) {
        next if $line =~ m{/sandbox/sms\?mobile=|X-CNCA-Sandbox-Captcha:|\[mpm_event:trace};
        my $text = $line =~ s/^\[[^\]]*\] //r;    # the time stamp
        my $ours = $text =~ /^\[cnca(?:_sandbox)?:/;
        # what httpd puts in every line, and measures: numbers that are no
        # value of a person's
        $text =~ s/\[pid \d+(?::tid \d+)?\] //;
        $text =~ s/\[client [^\]]+\] //;
        $text =~ s/^(\[[^\]]+\] )\S+\.c\(\d+\): /$1/;
        $text =~ s/\(\d+\)(?=[A-Za-z])//;
        $text =~ s/\b\d+ (?:ms|s|bytes)\b//g;
        for my $v (@values) {
            next unless defined $v && length $v;
            next if length($v) < 6 && !$ours;
            my $bytes = Encode::is_utf8($v) ? Encode::encode('UTF-8', $v) : $v;
            if ($text =~ /(?<![0-9A-Za-z])\Q$bytes\E(?![0-9A-Za-z])/) {
                push @found, "$v in: " . substr($text, 0, 200);
            }
        }
    }
    return \@found;
}

# Every key and value memcached holds now: { key => value }. Uses the LRU
# crawler's metadump (memcached >= 1.4.31) to list the keys.
sub memcached_dump {
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ENV{CNCA_MC_PORT},
        Timeout => 5) or die "memcached: $!";
    my @keys;
    print $s "lru_crawler metadump all\r\n";
    while (my $l = <$s>) {
        last if $l =~ /^(END|ERROR|CLIENT_ERROR|SERVER_ERROR)/;
        push @keys, $1 if $l =~ /^key=(\S+)/;
    }
    my %kv;
    for my $k (map { s/%([0-9A-Fa-f]{2})/chr hex $1/ger } @keys) {
        print $s "get $k\r\n";
        my $h = <$s>;
        next unless defined $h && $h =~ /^VALUE \S+ \d+ (\d+)/;
        my $len = $1;
        my $val = '';
        read($s, $val, $len + 2) == $len + 2 or die 'memcached: short read';
        <$s>;    # END
        $kv{$k} = substr($val, 0, $len);
    }
    close $s;
    return \%kv;
}

# The keys or values of memcached that show one of the values in the clear
# (text such as names as UTF-8): as a token of its own in the raw text (a
# base64url blob cannot match by chance: its neighbours are base64
# characters), or anywhere in the bytes a base64 value decodes to.
sub memcached_leaks {
    my ($kv, @values) = @_;
    require MIME::Base64;
    my @found;
    for my $k (sort keys %$kv) {
        my $raw = $kv->{$k};
        my $decoded = '';
        if ($raw =~ /^[A-Za-z0-9_\-+\/]+=*$/) {
            $decoded = MIME::Base64::decode_base64($raw =~ tr{-_}{+/}r);
        }
        for my $v (@values) {
            next unless defined $v && length $v;
            my $bytes = Encode::is_utf8($v) ? Encode::encode('UTF-8', $v) : $v;
            push @found, "$v in $k"
                if "$k $raw" =~ /(?<![0-9A-Za-z_\-])\Q$bytes\E(?![0-9A-Za-z_\-])/
                || index($decoded, $bytes) >= 0;
        }
    }
    return \@found;
}

# The newest SMS code the sandbox received for mobile (after $after_id).
sub sms_code {
    my ($mobile, %opt) = @_;
    my $ua = LWP::UserAgent->new(timeout => 10);
    for (1 .. 20) {
        my $list = json_of($ua->get(sandbox_url("/sms?mobile=$mobile")));
        $list = [] unless ref $list eq 'ARRAY';
        for my $m (@$list) {
            next if $opt{after_id} && $m->{id} <= $opt{after_id};
            return $1 if $m->{text} =~ /验证码为(\d{6})/;
        }
        select undef, undef, undef, 0.1;
    }
    return undef;
}

# All SMS the sandbox received for mobile, newest first.
sub sms_list {
    my ($mobile) = @_;
    my $list = json_of(LWP::UserAgent->new->get(sandbox_url("/sms?mobile=$mobile")));
    return ref $list eq 'ARRAY' ? $list : [];
}

# Makes the sandbox answer CHECK ('*' or a type) for SUBJECT (an ID number,
# or a mobile for sms-send) with BEHAVIOUR pass|fail|error|late.
sub sandbox_person {
    my ($subject, $check, $behaviour, $code, $text) = @_;
    my $dbh = db();
    $dbh->do('INSERT OR REPLACE INTO sandbox_person (subject, check_type, behaviour, reason_code,'
          . ' reason_text) VALUES (?, ?, ?, ?, ?)', undef, $subject, $check, $behaviour, $code,
        $text);
    $dbh->disconnect;
}

# A PNG of WxH: white paper with a dark stroke across it (a signature).
sub png {
    my ($w, $h) = @_;
    ($w, $h) = ($w // 64, $h // 64);
    require GD;
    my $im = GD::Image->new($w, $h, 1);
    $im->filledRectangle(0, 0, $w - 1, $h - 1, $im->colorAllocate(255, 255, 255));
    $im->setThickness(3);
    $im->line(int($w / 8), int($h / 2), int($w * 7 / 8), int($h / 3), $im->colorAllocate(20, 20, 20));
    return $im->png;
}

# The sandbox's face page, as the phone's camera would answer it: uploads
# IMAGE (default: a 128x128 PNG) for the face session at REDIRECT (the
# /face/start answer) and follows the way back through /face/return.
# Returns the final Location the module answered.
sub face_capture {
    my ($c, $redirect, $image) = @_;
    my ($token) = $redirect =~ /token=([^&]+)/;
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->post(sandbox_url("/face/capture?token=$token"), 'Content-Type' => 'image/png',
        Content => $image // png(128, 128));
    my $back = json_of($res)->{redirect} or return undef;
    my $r = $c->ua->get($back);
    return $r->header('Location');
}

# Runs a new applicant through manual 3.1 (real-name mobile) up to and
# including /confirm; returns the confirm answer. %opt: name, id_number,
# mobile.
sub enroll {
    my ($c, %opt) = @_;
    my $idn = $opt{id_number} // id_number();
    my $mob = $opt{mobile} // mobile('139');
    my $name = $opt{name} // '刘德华';
    my ($r, $d) = $c->post('/apply', { name => $name, id_number => $idn, mobile => $mob });
    die "apply: " . $r->code unless $r->code == 200;
    ($r, $d) = $c->post('/sms', { mobile => $mob, captcha => $c->captcha });
    die "sms: " . $r->code . ' ' . $r->decoded_content unless $r->code == 200;
    ($r, $d) = $c->post('/verify/mobile', { sms_code => sms_code($mob), agree => JSON::PP::true });
    die "verify: " . $r->code . ' ' . $r->decoded_content unless $r->code == 200 && $d->{next} eq 'face';
    ($r, $d) = $c->post('/face/start', {});
    die "face: " . $r->code unless $r->code == 200;
    my $loc = face_capture($c, $d->{redirect});
    die "face return: " . ($loc // 'none') unless $loc && $loc =~ /face-done/;
    ($r, $d) = $c->post('/confirm', { mobile => $mob });
    return wantarray ? ($r, $d, { name => $name, id_number => $idn, mobile => $mob }) : $d;
}

# POSTs each body (JSON) to path from client C's phone (its cookie and CSRF
# token), all at the same moment, each from a process of its own. Returns
# [status, decoded answer] for each body, in order.
sub parallel_post {
    my ($c, $path, @bodies) = @_;
    return parallel_requests(map { [$c, $path, $_] } @bodies);
}

# The same for requests [client, path, body] of several phones.
sub parallel_requests {
    my (@reqs) = @_;
    require POSIX;
    require Time::HiRes;
    my $start = Time::HiRes::time() + 0.5;
    my @kids;
    for my $q (@reqs) {
        my ($c, $path, $body) = @$q;
        my $pid = open(my $fh, '-|') // die "fork: $!";
        if (!$pid) {
            my $req = HTTP::Request->new(POST => $c->url($path));
            $req->content_type('application/json');
            $req->header('X-CNCA-CSRF' => $c->{csrf});
            $req->content(JSON::PP->new->utf8->encode($body));
            $c->ua->cookie_jar->add_cookie_header($req);
            my $ua = LWP::UserAgent->new(timeout => 30,
                $c->ua->local_address ? (local_address => $c->ua->local_address) : ());
            my $wait = $start - Time::HiRes::time();
            Time::HiRes::sleep($wait) if $wait > 0;
            my $res = $ua->request($req);
            my $text = $res->content =~ s/[\r\n]+/ /gr;
            print STDOUT $res->code, "\t", $text, "\n";
            close STDOUT;
            POSIX::_exit(0);
        }
        push @kids, $fh;
    }
    my @got;
    for my $fh (@kids) {
        my $line = readline($fh) // "0\t{}";
        close $fh;
        chomp $line;
        my ($code, $text) = split /\t/, $line, 2;
        my $data = eval { $json->decode($text) } // {};
        push @got, [$code, $data];
    }
    return @got;
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
    my $data = CncaTest::json_of($res);
    # a login gives the session a new id and token
    $self->{csrf} = $data->{csrf} if $data->{ok} && $data->{csrf};
    return wantarray ? ($res, $data) : $res;
}

# GET /captcha; returns the answer (sandbox header).
sub captcha {
    my ($self) = @_;
    my $res = $self->get('/captcha');
    return $res->header('X-CNCA-Sandbox-Captcha');
}

sub cookie_value {
    my ($self) = @_;
    my $val;
    $self->{ua}->cookie_jar->scan(sub { $val = $_[2] if $_[1] =~ /cnca_session$/ });
    return $val;
}

1;
