# The signature image (manual 3.1 step 8, 3.2 step 10, manual 4 (1)):
# POST /me/signature?source=handwrite|upload|photo and GET
# /me/signature.png. What is kept is decoded and re-encoded as PNG, never
# the bytes sent; handwriting and photos of paper become ink on
# transparent; oversized images and images whose headers lie are refused
# before they are decoded, with the server still healthy and the old
# signature untouched; every change is audited.
use strict;
use warnings FATAL => 'all';
use utf8;

use Compress::Zlib ();
use GD;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use CncaTest;
use CncaFlow;

sub upload {
    my ($c, $source, $bytes, $type) = @_;
    return $c->post("/me/signature?source=$source", $bytes, type => $type // 'image/png');
}

# Alpha of the pixel at (x, y) of a truecolor GD image: 0 opaque .. 127 transparent.
sub alpha_at { my ($im, $x, $y) = @_; return ($im->getPixel($x, $y) >> 24) & 0x7f }

sub luma_at {
    my ($im, $x, $y) = @_;
    my $px = $im->getPixel($x, $y);
    return (77 * (($px >> 16) & 255) + 150 * (($px >> 8) & 255) + 29 * ($px & 255)) >> 8;
}

# Opaque, dark pixels of an image: the ink.
sub ink_pixels {
    my ($im) = @_;
    my ($w, $h) = $im->getBounds;
    my $n = 0;
    for my $y (0 .. $h - 1) {
        for my $x (0 .. $w - 1) {
            ++$n if alpha_at($im, $x, $y) < 64 && luma_at($im, $x, $y) < 128;
        }
    }
    return $n;
}

sub corners_transparent {
    my ($im) = @_;
    my ($w, $h) = $im->getBounds;
    return 4 == grep { alpha_at($im, @$_) == 127 } [ 0, 0 ], [ $w - 1, 0 ], [ 0, $h - 1 ],
      [ $w - 1, $h - 1 ];
}

sub served {
    my ($c) = @_;
    my $r = $c->get('/me/signature.png');
    return ($r, $r->code == 200 ? GD::Image->newFromPngData($r->content, 1) : undef);
}

# A PNG with its IHDR saying WxH (CRC fixed, so only the size lies).
sub png_claiming {
    my ($w, $h) = @_;
    my $png = png(64, 64);
    my $ihdr = pack('NN', $w, $h) . substr($png, 24, 5);
    substr($png, 16, 13) = $ihdr;
    substr($png, 29, 4) = pack('N', Compress::Zlib::crc32("IHDR$ihdr"));
    return $png;
}

# A JPEG with its SOF saying WxH.
sub jpeg_claiming {
    my ($w, $h) = @_;
    my $im = GD::Image->new(64, 64, 1);
    $im->filledRectangle(0, 0, 63, 63, $im->colorAllocate(255, 255, 255));
    my $jpg = $im->jpeg(80);
    my $at = index($jpg, "\xFF\xC0");
    die 'no SOF0' if $at < 0;
    substr($jpg, $at + 5, 4) = pack('nn', $h, $w);
    return $jpg;
}

# A photo of a signature on paper: uneven grey light with grain, a dark stroke.
sub paper_photo {
    my ($w, $h) = @_;
    my $im = GD::Image->new($w, $h, 1);
    for my $y (0 .. $h - 1) {
        for my $x (0 .. $w - 1) {
            my $v = 170 + int(50 * $x / $w) + int(rand(8));
            $im->setPixel($x, $y, $im->colorResolve($v, $v - 4, $v - 10));
        }
    }
    $im->setThickness(4);
    my $ink = $im->colorResolve(30, 30, 45);
    $im->line(int($w * 0.2), int($h * 0.6), int($w * 0.5), int($h * 0.3), $ink);
    $im->line(int($w * 0.5), int($h * 0.3), int($w * 0.8), int($h * 0.55), $ink);
    return $im->jpeg(90);
}

# ------------------------------------------------ not logged in
{
    my $c = client();
    my ($r, $d) = upload($c, 'handwrite', png(200, 100));
    is($r->code, 401, 'signature without logging in: 401');
    is($d->{error}, 'not_logged_in', 'not_logged_in');
    is($c->get('/me/signature.png')->code, 401, 'signature.png without logging in: 401');
}

my $c = client();
my ($r, $d, $who) = enroll($c);
is($r->code, 200, 'enrolled');
my $person = person_of($who->{id_number});
my $mark = audit_mark();

# ------------------------------------------------ none yet
($r) = served($c);
is($r->code, 404, 'signature.png before one is set: 404');
ok(!json_of($c->get('/me'))->{has_signature}, '/me: has_signature false');

# ------------------------------------------------ handwriting (right after enrollment)
my $hand = png(300, 150);
($r, $d) = upload($c, 'handwrite', $hand);
is($r->code, 200, 'handwrite: 200');
is($d->{next}, 'terms', 'right after enrollment: next terms (manual 3.1 step 9)');
my $im;
($r, $im) = served($c);
is($r->code, 200, 'signature.png: 200');
is($r->header('Content-Type'), 'image/png', 'image/png');
is($r->header('Cache-Control'), 'no-store', 'no-store');
is(substr($r->content, 0, 8), "\x89PNG\r\n\x1a\n", 'a PNG');
isnt($r->content, $hand, 'not the uploaded bytes: re-encoded');
ok($im, 'it decodes');
my ($w, $h) = $im ? $im->getBounds : (0, 0);
ok($w < 300 && $h < 150, "cropped to the ink ($w x $h of 300 x 150)");
ok($im && corners_transparent($im), 'handwriting: the paper is transparent');
ok($im && ink_pixels($im) > 50, 'and the ink is opaque and dark');
ok(json_of($c->get('/me'))->{has_signature}, '/me: has_signature true');

# ------------------------------------------------ upload (later: next me)
my $up = png(400, 200);
($r, $d) = upload($c, 'upload', $up);
is($r->code, 200, 'upload: 200');
is($d->{next}, 'me', 'a later change: next me');
($r, $im) = served($c);
isnt($r->content, $up, 'upload: re-encoded');
ok($im && ink_pixels($im) > 50, 'upload: the ink is there');

# ------------------------------------------------ a photo of paper: cleaned
my $photo = paper_photo(480, 240);
($r, $d) = upload($c, 'photo', $photo, 'image/jpeg');
is($r->code, 200, 'photo (JPEG): 200');
($r, $im) = served($c);
is(substr($r->content, 0, 8), "\x89PNG\r\n\x1a\n", 'photo: kept as PNG');
ok($im && corners_transparent($im), 'photo: the grey paper became transparent');
if ($im) {
    my ($pw, $ph) = $im->getBounds;
    my ($clear, $all) = (0, 0);
    for my $y (0 .. $ph - 1) {
        for my $x (0 .. $pw - 1) {
            ++$all;
            ++$clear if alpha_at($im, $x, $y) == 127;
        }
    }
    ok($clear / $all > 0.5, sprintf('photo: most of it is transparent (%.0f%%)', 100 * $clear / $all));
    ok(ink_pixels($im) > 100, 'photo: the stroke is kept as dark ink');
}
my $good = $r->content;

# ------------------------------------------------ audit: each change
my $rows = audit_since($mark, event => 'signature.set', outcome => 'ok');
is_deeply([ map { ($_->{detail} // '') =~ /source=(\w+)/ ? $1 : '?' } @$rows ],
    [qw(handwrite upload photo)], 'audit: one row per change, with its source');
is(scalar(grep { ($_->{person_id} // 0) == $person->{id} } @$rows), 3, 'audit: of the holder');
is(db_count('SELECT COUNT(*) FROM signatures WHERE person_id = ?', $person->{id}), 1,
    'one signature row per holder');

# ------------------------------------------------ refused: bad requests, oversized, lying headers
$mark = audit_mark();
($r, $d) = upload($c, 'camera', png(100, 50));
is($r->code, 400, 'an unknown source: 400');
is($d->{field}, 'source', 'field source');
($r, $d) = upload($c, 'upload', png(100, 50), 'text/plain');
is($r->code, 415, 'not an image type: 415');

my $big = png(64, 64) . ("\0" x (2 * 1024 * 1024));
($r, $d) = upload($c, 'upload', $big);
is($r->code, 413, 'over 2 MB: 413');
is($d->{error}, 'too_large', 'too_large');
like($d->{message}, qr/图片过大/, 'says the image is too large');

# the same without Content-Length (chunked): stopped at the limit as well
{
    my @parts = (png(64, 64), map { "\0" x 65536 } 1 .. 40);
    my $req = HTTP::Request->new(POST => $c->url('/me/signature?source=upload'));
    $req->header('Content-Type' => 'image/png');
    $req->header('X-CNCA-CSRF' => $c->{csrf});
    $req->content(sub { shift @parts });
    $r = $c->ua->request($req);
    is($r->code, 413, 'over 2 MB, chunked: 413');
}

($r, $d) = upload($c, 'upload', png_claiming(30000, 30000));
is($r->code, 413, 'a PNG whose header claims 30000x30000: 413 before decoding');
is($d->{error}, 'too_large', 'too_large');
($r, $d) = upload($c, 'upload', jpeg_claiming(60000, 60000), 'image/jpeg');
is($r->code, 413, 'a JPEG whose header claims 60000x60000: 413');
($r, $d) = upload($c, 'upload', png_claiming(640, 480));
is($r->code, 400, 'a PNG header claiming 640x480 over 64x64 data: 400');
is($d->{field}, 'image', 'field image');
($r, $d) = upload($c, 'upload', substr(png(200, 100), 0, 60));
is($r->code, 400, 'a truncated PNG: 400');
($r, $d) = upload($c, 'upload', "GIF89a" . ("\0" x 100));
is($r->code, 400, 'a GIF sent as image/png: 400');
($r, $d) = upload($c, 'upload', '<svg xmlns="http://www.w3.org/2000/svg"/>');
is($r->code, 400, 'SVG text sent as image/png: 400');
($r, $d) = upload($c, 'upload', '');
is($r->code, 400, 'an empty body: 400');
{
    my $blank = GD::Image->new(200, 100, 1);
    $blank->filledRectangle(0, 0, 199, 99, $blank->colorAllocate(255, 255, 255));
    ($r, $d) = upload($c, 'handwrite', $blank->png);
    is($r->code, 400, 'a blank handwriting: 400 (no ink)');
}

($r) = served($c);
is($r->content, $good, 'after all the refusals the signature is the last good one');
my $refused = audit_since($mark, event => 'signature.set');
ok(!grep({ $_->{outcome} eq 'ok' } @$refused), 'no refused image was audited as a change');
ok(scalar(grep { $_->{outcome} eq 'refused' } @$refused) >= 5, 'the refused images are audited');
my $s = $c->session;
ok($s->{csrf}, 'the server is still healthy: /session answers');
($r, $d) = upload($c, 'handwrite', png(120, 60));
is($r->code, 200, 'and a good image is still taken');

done_testing();
