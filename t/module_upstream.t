#!/usr/bin/perl

# The module's FastCGI client: keepalive over hundreds of requests, a
# peer that splits records and header lines at awkward offsets, 20 MB
# bodies both ways (memory, temp file, chunked), streamed responses,
# STDERR in the error log, runner down (502) and slow (504).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record);
use Test::More;
use Digest::MD5 qw(md5_hex);
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);

my $t = FaasTest->new;
my $fn = $t->testfn;
$t->function('echo', "exec = $fn\n");
$t->start_runner(log_level => 'debug');
$t->{port} = FaasTest::free_port();

my $p = $t->prefix;
my $sock = $t->socket_path;
my $peer = "$p/peer.sock";

# a FastCGI peer of our own: answers every request with a response cut
# into records of 1..7 bytes with random padding and STDERR in between
my $peer_pid = fork // die;
if ($peer_pid == 0) {
    my $l = IO::Socket::UNIX->new(Local => $peer, Listen => 16,
                                  Type => SOCK_STREAM) or die "$!";
    my ($conns, $reqs) = (0, 0);
    while (my $c = $l->accept) {
        $conns++;
        my $buf = '';
        REQ: while (1) {
            my ($keep, $stdin_done, %params, $pbuf) = (0, 0);
            $pbuf = '';
            while (!$stdin_done) {
                while (length $buf >= 8) {
                    my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
                    last if length $buf < 8 + $len + $pad;
                    my $content = substr($buf, 8, $len);
                    substr($buf, 0, 8 + $len + $pad, '');
                    $keep = unpack('xxC', $content) & 1 if $type == 1;
                    $pbuf .= $content if $type == 4;
                    $stdin_done = 1 if $type == 5 && $len == 0;
                }
                last if $stdin_done;
                my $n = sysread($c, my $chunk, 65536);
                last REQ unless $n;
                $buf .= $chunk;
            }
            $reqs++;
            POSIX::write(1, '', 0);
            open my $fh, '>', "$peer.count"; print $fh "$conns $reqs\n"; close $fh;
            my $resp = "Status: 203 Cut Up\r\nX-Long-Header: " . ('v' x 3000)
                     . "\r\nX-Conn: $conns\r\nContent-Type: text/plain\r\n\r\n"
                     . "body of request $reqs\n";
            my $out = '';
            my $i = 0;
            while (length $resp) {
                my $n = 1 + ($i++ % 7);
                $out .= fcgi_record(6, 1, substr($resp, 0, $n, ''), $i % 9);
                $out .= fcgi_record(7, 1, "peer note $i") if $i == 5;
            }
            $out .= fcgi_record(6, 1, '') . fcgi_record(3, 1, "\0\0\0\0\0\0\0\0");
            # written in pieces, so records split across reads too
            while (length $out) {
                syswrite($c, substr($out, 0, 13, ''));
            }
            last unless $keep;
        }
        close $c;
    }
    exit 0;
}

FaasTest::wait_for(sub { -S $peer }, 5);
chmod 0666, $peer;

$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 4; }
    upstream peer { server unix:$peer; keepalive 2; }
    upstream nowhere { server unix:$p/nothing.sock; }

    server {
        listen 127.0.0.1:$t->{port};
        client_max_body_size 0;
        client_body_buffer_size 16k;

        location /fn/ {
            faas_route ^/fn/(?<name>[a-z]+) \$name;
            faas_pass runner;
        }
        location /peer/ { faas_function any; faas_pass peer; }
        location /down/ { faas_function echo; faas_pass nowhere; }
        location /slow/ {
            faas_function echo;
            faas_pass runner;
            faas_read_timeout 1s;
        }
    }
EOF

# the awkward peer
my $r = $t->http_get('/peer/x');
is($r->{status}, 203, 'header cut into 1-7 byte records: status');
is(length(FaasTest::header($r, 'x-long-header')), 3000,
   'a 3000-byte header line across hundreds of records');
is($r->{body}, "body of request 1\n", 'body after it');
like($t->error_log, qr/function "any" stderr: "peer note 5"/,
     'STDERR between the records logged with the function name');
for (2 .. 5) {
    $r = $t->http_get('/peer/x');
}
is($r->{body}, "body of request 5\n", 'five requests to the peer');
my ($conns, $reqs) = split ' ', FaasTest::read_file("$peer.count");
is($reqs, 5, 'the peer saw five');
is($conns, 1, 'on one kept connection');

# keepalive to the runner over hundreds of requests
my $before = () = $t->runner_log =~ /client connection \d+ accepted/g;
my $ok = 0;
for (1 .. 300) {
    $ok++ if $t->http_get('/fn/echo')->{status} == 200;
}
is($ok, 300, '300 sequential requests');
my $after = () = $t->runner_log =~ /client connection \d+ accepted/g;
ok($after - $before <= 1, 'over at most one new runner connection ('
   . ($after - $before) . ')');

# bodies
my $body = '';
$body .= pack('N', $_ * 2246822519 % 4294967296) for 1 .. 5_000_000;

$r = $t->http_post('/fn/echo?op=echo', $body, timeout => 60);
is($r->{status}, 200, '20 MB POST (temp file) echoed');
is(md5_hex($r->{body}), md5_hex($body), 'byte-exact');

my $small = substr($body, 0, 10000);
$r = $t->http_post('/fn/echo?op=echo', $small);
is($r->{body}, $small, 'small body from memory, byte-exact');

$r = $t->http("POST /fn/echo?op=echo HTTP/1.1\r\nHost: x\r\n"
              . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
              . join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                             unpack('(a777777)*', $body))
              . "0\r\n\r\n", timeout => 60);
is(md5_hex($r->{body}), md5_hex($body), 'chunked 20 MB upload byte-exact');

$r = $t->http_get('/fn/echo?op=big&n=30000000', timeout => 60);
is(length $r->{body}, 30_000_000, '30 MB response streamed');
my $pattern = join '', map { chr(97 + $_ % 26) } 0 .. 65535;
ok($r->{body} eq substr($pattern x 500, 0, 30_000_000), 'byte-exact');

# a response nginx cannot hand on as fast as it comes goes to a file in
# faas_temp_path (FaasTest sets it in the prefix: not the compiled-in
# /var/lib/nginx/fastcgi_faas), then whole to the client
{
    my $c = IO::Socket::INET->new(Proto => 'tcp', Timeout => 5);
    setsockopt($c, SOL_SOCKET, SO_RCVBUF, 4096);
    $c->connect(pack_sockaddr_in($t->{port}, inet_aton('127.0.0.1')))
        or die "connect: $!";
    print $c "GET /fn/echo?op=big&n=3000000 HTTP/1.0\r\nHost: x\r\n\r\n";
    sleep 1;    # read nothing meanwhile
    my $buf = '';
    while (sysread($c, my $b, 65536)) {
        $buf .= $b;
    }
    my ($head, $rbody) = split /\r\n\r\n/, $buf, 2;
    is(length($rbody // ''), 3_000_000, 'a response to a slow reader: whole');
    my $tp = $t->prefix . '/faas_temp';
    my $said = 'an upstream response is buffered to a temporary file';
    like($t->error_log, qr/\Q$said $tp\E\//, '... by a file in faas_temp_path');
}

# a response written in parts arrives in parts, not at the end
{
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 5);
    my $t0 = time;
    print $c "GET /fn/echo?op=stream&n=3&ms=700 HTTP/1.0\r\nHost: x\r\n\r\n";
    my ($buf, $first) = ('', undef);
    while (sysread($c, my $b, 65536)) {
        $buf .= $b;
        $first //= time - $t0 if $buf =~ /part 0 /;
    }
    my $total = time - $t0;
    like($buf, qr/part 0 .*part 1 .*part 2 /s, 'streamed response whole');
    ok(defined $first && $first < $total - 0.8,
       sprintf('first part at %.2f s, the whole at %.2f s', $first // -1,
               $total));
}

$r = $t->http("HEAD /fn/echo HTTP/1.0\r\nHost: x\r\n\r\n");
is($r->{status}, 200, 'HEAD');
is($r->{body}, '', 'without a body');

$r = $t->http_get('/fn/echo?op=stderr');
is($r->{status}, 200, 'stderr of a function');
ok(FaasTest::wait_for(sub {
       $t->error_log =~ /function "echo" stderr: "testfn says hello on stderr"/
   }, 5), 'in the error log with the function name');

is($t->http_get('/down/')->{status}, 502, 'runner unreachable: 502');
my $t0 = time;
is($t->http_get('/slow/?op=sleep&ms=4000')->{status}, 504,
   'runner too slow: 504');

$t->done;
kill 'TERM', $peer_pid;
waitpid($peer_pid, 0);
done_testing;
