#!/usr/bin/perl

# Bodies stream through with bounded memory: 20 MB byte-exact both ways
# through nginx, a function that answers before reading its body, a big
# streamed response, and the runner's resident memory during an upload
# far larger than any of its buffers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Digest::MD5 qw(md5_hex);
use IO::Select;
use Time::HiRes qw(time);

# resident memory is measured: the plain build, as ASan's quarantine
# keeps freed memory on purpose
my $t = FaasTest->new(runner => FaasTest::memory_runner());
my $fn = $t->testfn;

$t->function('echo', "exec = $fn\n");
$t->start_runner;
$t->start_nginx;

my $body = '';
$body .= pack('N', $_ * 2654435761 % 4294967296) for 1 .. 5_000_000;
is(length $body, 20_000_000, '20 MB of test data');

my $r = $t->http_post('/fn/echo?op=echo', $body, timeout => 60);
is($r->{status}, 200, 'echo 20 MB: 200');
is(length $r->{body}, length $body, 'echo 20 MB: length');
is(md5_hex($r->{body}), md5_hex($body), 'echo 20 MB: byte-exact');

# unbuffered upload: nginx streams the body as it comes
my $t2 = $t->http("POST /fn/echo?op=echo HTTP/1.1\r\nHost: x\r\n"
                  . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                  . join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                                 unpack('(a1000000)*', $body))
                  . "0\r\n\r\n", timeout => 60);
is(md5_hex($t2->{body}), md5_hex($body), 'chunked 20 MB upload: byte-exact');

# the function answers (1 MB) before it reads its 20 MB body
$r = $t->http_post('/fn/echo?op=early&n=1000000', $body, timeout => 60);
is($r->{status}, 200, 'early answer: 200, no deadlock');
ok($r->{body} eq ('e' x 1000000) . "\nbody=20000000\n",
   'early answer whole, and the whole body was read');

# a big response streamed out
$r = $t->http_get('/fn/echo?op=big&n=50000000', timeout => 60);
is($r->{status}, 200, 'big response: 200');
is(length $r->{body}, 50_000_000, 'big response: 50 MB');
my $pattern = join '', map { chr(97 + $_ % 26) } 0 .. 65535;
my $expect = substr($pattern x 800, 0, 50_000_000);
ok($r->{body} eq $expect, 'big response: byte-exact');

# 300 MB straight into the runner: its memory stays small
sub vm {
    my ($pid, $key) = @_;
    my ($kb) = FaasTest::read_file("/proc/$pid/status") =~ /^$key:\s+(\d+)/m;
    return $kb // 0;
}

my $size = 300 * 1024 * 1024;
my $s = $t->fcgi_connect;
$s->blocking(0);
my $head = FaasTest::fcgi_request_bytes(
    params => FaasTest::fcgi_default_params('echo',
        QUERY_STRING => 'op=early&n=0', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => $size), no_stdin => 1);
my $chunk = FaasTest::fcgi_record(5, 1, 'z' x 65528);
my $sent = 0;
my $out = $head;
my $in = '';
my $sel = IO::Select->new($s);
my $peak = 0;
my $end = time + 120;
while (time < $end) {
    if (!length $out && $sent < $size) {
        my $n = $size - $sent < 65528 ? $size - $sent : 65528;
        $out = $n == 65528 ? $chunk : FaasTest::fcgi_record(5, 1, 'z' x $n);
        $sent += $n;
        $out .= FaasTest::fcgi_record(5, 1, '') if $sent == $size;
    }
    my ($rd, $wr) = IO::Select->select($sel, length $out ? $sel : undef,
                                       undef, 1);
    if ($wr && @$wr) {
        my $n = syswrite($s, $out);
        substr($out, 0, $n, '') if $n;
    }
    if ($rd && @$rd) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $in .= $buf;
        last if $in =~ /body=\d+/ && $in =~ /\x01\x03\x00\x01/;
    }
    my $rss = vm($t->runner_pid, 'VmRSS');
    $peak = $rss if $rss > $peak;
}
close $s;
like($in, qr/body=$size/, '300 MB upload: the function got every byte');
my $hwm = vm($t->runner_pid, 'VmHWM');
SKIP: {
    skip 'resident memory under ASan says nothing', 1
        unless FaasTest::rss_measured();
    ok($hwm < 16 * 1024, "runner peak RSS stays small: $hwm kB");
}
diag("runner VmHWM after 300 MB upload: $hwm kB (sampled peak $peak kB)");

$t->done;
done_testing;
