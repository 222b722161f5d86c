#!/usr/bin/perl

# listen_allow: a runner's TCP socket runs any function as any tenant for
# whoever connects. On loopback it needs nothing; anywhere else it takes
# listen_allow (CIDRs) or refuses to start, before it binds. A peer not
# in the list is closed unread, logged at most once a second, and costs
# the runner nothing; nginx behind an allowed address is served as
# before. A malformed list stops the start (and --test), and on SIGHUP
# leaves the running list in place.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;

$t->function('hello', "exec = $fn\n");

my $port = FaasTest::free_port();

sub conf_with {
    my ($extra) = @_;
    my $c = $t->runner_conf_text("listen = 127.0.0.1:$port\n$extra");
    FaasTest::write_file("$p/runner.conf", $c);
}

# the runner started by hand: whether it starts at all is the question
sub try_runner {
    my ($conf, @args) = @_;
    FaasTest::write_file("$p/try.conf", $t->runner_conf_text($conf));
    my $out = `timeout 10 $t->{runner_bin} --config $p/try.conf @args 2>&1`;
    return ($? >> 8, $out);
}

# --- refused before it binds --------------------------------------------

{
    my $wide = FaasTest::free_port();
    my ($rc, $out) = try_runner("listen = 0.0.0.0:$wide\n");
    is($rc, 1, 'a non-loopback listen without listen_allow: exit 1');
    like($out, qr/listen on "0\.0\.0\.0:$wide", not a loopback address, (?x)
                  takes\ "listen_allow"/, '... saying why');
    ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $wide,
                              Timeout => 2),
       '... and nothing was listening on it');
    ($rc, $out) = try_runner("listen = 0.0.0.0:$wide\n", '--test');
    is($rc, 1, '... --test finds it');
    like($out, qr/not a loopback address/, '... saying why');
}

# an address that is none: refused by --test as by the start (a port
# over 65535 was taken modulo 65536, 0 as any port; "unix:" alone said
# rename() to "" failed)
for my $bad ('127.0.0.1:99999', '127.0.0.1:0', '127.0.0.1:', '127.0.0.1:8x',
             '127.0.0.1:-1', 'nothing', 'unix:', ':9000') {
    my ($rc, $out) = try_runner("listen = $bad\n", '--test');
    is($rc, 1, "listen = $bad: --test finds it");
    like($out, qr/invalid listen address "\Q$bad\E"/, '... saying which');
    ($rc, $out) = try_runner("listen = $bad\n");
    is($rc, 1, "listen = $bad: the runner does not start");
    like($out, qr/invalid listen address "\Q$bad\E"/, '... saying which');
}
{
    my ($rc, $out) = try_runner("listen = 127.0.0.1:65535\n", '--test');
    is($rc, 0, 'listen = 127.0.0.1:65535: a port, ok') or diag($out);
}

# meter_log where it cannot be made: --test says so (the start did)
{
    my ($rc, $out) = try_runner("meter_log = $p/no/such/m.log\n", '--test');
    is($rc, 1, 'meter_log two folders down from nothing: --test finds it');
    like($out, qr/cannot open meter_log "\Q$p\E\/no\/such\/m.log"/,
         '... saying which');
    ($rc, $out) = try_runner("meter_log = $p/\n", '--test');
    is($rc, 1, 'meter_log a folder: --test finds it');
    like($out, qr/cannot open meter_log "\Q$p\E\/": a folder/, '... saying so');
    ($rc, $out) = try_runner("meter_log = $p/made/m.log\n", '--test');
    is($rc, 0, 'one folder down: the runner makes it, ok') or diag($out);
    ok(!-e "$p/made", '... not --test');
}

for my $bad ('10.0.0.0/33', 'not-an-address', '1.2.3.4/', '1.2.3.4/-1',
             '::1/129', ', ,', '10.0.0.0/8 bogus', '1.2.3.4/ 8',
             '1.2.3.4/0x8') {
    my ($rc, $out) = try_runner("listen = 127.0.0.1:$port\n"
                                . "listen_allow = $bad\n");
    is($rc, 1, "listen_allow = '$bad': the runner does not start");
    like($out, qr/listen_allow/, "... and says listen_allow");
    ($rc, $out) = try_runner("listen_allow = $bad\n", '--test');
    is($rc, 1, "listen_allow = '$bad': --test finds it");
}

{
    my ($rc, $out) = try_runner("listen_allow = "
                                . join(' ', map { "10.1.$_.0/24" } 0 .. 256)
                                . "\n", '--test');
    is($rc, 1, 'more than 256 networks: refused');
    like($out, qr/more than 256 networks/, '... saying so');
}

# a listen_owner or listen_group that is no user or group stops the
# start: --test finds it too
for my $key ('listen_owner = nosuchuserx', 'listen_group = nosuchgroupx') {
    my ($name) = $key =~ /^(\w+)/;
    my ($rc, $out) = try_runner("listen = unix:$p/try.sock\n$key\n");
    is($rc, 1, "$key: the runner does not start");
    like($out, qr/unknown $name "nosuch/, '... and says which');
    ($rc, $out) = try_runner("listen = unix:$p/try.sock\n$key\n", '--test');
    is($rc, 1, "$key: --test finds it");
    like($out, qr/unknown $name "nosuch/, '... and says which');
}

# --- an allowed network --------------------------------------------------

$t->start_runner(conf => "listen = 127.0.0.1:$port\n"
                         . "listen_allow = 127.0.0.2/32, 10.0.0.0/8 ::1\n");

sub fcgi_from {
    my ($from) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  LocalAddr => $from, Timeout => 5)
        or return (undef, "connect: $!");
    my $bytes = FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('hello'));
    my $r = FaasTest::fcgi_exchange($s, $bytes, timeout => 10);
    return ($r->{stdout}, $r->{ended});
}

{
    my ($out) = fcgi_from('127.0.0.2');
    like($out // '', qr/Content-Type/i, 'a peer in listen_allow is served');
}

sub refused {
    my ($from) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  LocalAddr => $from, Timeout => 5)
        or return 1;
    print $s FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('hello'));
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    select(my $rout = $rin, undef, undef, 5) or return 0;
    my $n = sysread($s, my $buf, 100);
    # closed unread: EOF, or a reset for the bytes it never read
    return !$n;
}

ok(refused('127.0.0.3'), 'a peer outside listen_allow is closed unanswered');
ok(refused('127.0.0.1'), '... loopback too, when not listed');
ok($t->wait_log(qr/connection from 127\.0\.0\.3 refused: not in (?x)
                   "listen_allow"/), '... and logged');

# a flood of refused peers: the runner stays up and small, logs little
my $fds = () = glob("/proc/" . $t->runner_pid . "/fd/*");
my $lines = () = $t->runner_log =~ /refused: not in/g;
my $t0 = time;
my $n = 0;
while (time - $t0 < 2 && $n < 2000) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  LocalAddr => '127.0.0.4', Timeout => 2);
    $n++;
}
sleep 0.3;
my $after = () = $t->runner_log =~ /refused: not in/g;
cmp_ok($after - $lines, '<=', 4,
       "$n refused connections in ~2 s: at most a line a second");
my $fds2 = () = glob("/proc/" . $t->runner_pid . "/fd/*");
cmp_ok($fds2, '<=', $fds + 1, 'no descriptor kept for a refused peer');
{
    my ($out) = fcgi_from('127.0.0.2');
    like($out // '', qr/Content-Type/i, 'allowed peers still served');
}

# nginx, stock fastcgi_pass bound to each source address
$t->start_nginx(<<"EOF");
    server {
        listen 127.0.0.1:@{[ $t->{port} //= FaasTest::free_port() ]};
        location ~ ^/(?<src>[0-9.]+)/(?<fname>[^/]+)\$ {
            fastcgi_pass 127.0.0.1:$port;
            fastcgi_bind \$src;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$fname;
        }
    }
EOF

{
    my $r = $t->http_get('/127.0.0.2/hello');
    is($r->{status}, 200, 'nginx from an allowed address: 200');
    like($r->{body}, qr/\S/, '... with the body');
    $r = $t->http_get('/127.0.0.5/hello');
    is($r->{status}, 502, 'nginx from another address: 502');
}

# SIGHUP: a new list applies at once; a malformed one leaves it
conf_with("listen_allow = 127.0.0.5\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->http_get('/127.0.0.5/hello')->{status}
                            == 200 }, 10),
   'SIGHUP: a network added is served');
is($t->http_get('/127.0.0.2/hello')->{status}, 502,
   '... one removed is not');
conf_with("listen_allow = 127.0.0.2/40\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/not reloaded: the running configuration stays/),
   'SIGHUP with a malformed list: not reloaded');
is($t->http_get('/127.0.0.5/hello')->{status}, 200,
   '... the running list stays');
# a good list beside a store the start would refuse: none of it taken
# (the list was applied before the store was checked: a review)
my $mark = length $t->runner_log;
conf_with("listen_allow = 127.0.0.2\nstore = mysql://x\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /not reloaded: the running configuration/ },
                      10), 'SIGHUP with a bad store: not reloaded');
is($t->http_get('/127.0.0.5/hello')->{status}, 200,
   '... the running list stays, not the new file\'s');
is($t->http_get('/127.0.0.2/hello')->{status}, 502,
   '... which is not taken');

is($t->stop_runner, 0, 'runner exits 0 on SIGTERM');

# --- loopback needs nothing; a unix socket ignores the list --------------

$t->start_runner(conf => "listen = 127.0.0.1:$port\n");
{
    my ($out) = fcgi_from('127.0.0.9');
    like($out // '', qr/Content-Type/i,
         'loopback without listen_allow: any local peer served');
}
is($t->stop_runner, 0, '... and it stops');

$t->start_runner(conf => "listen_allow = 10.0.0.0/8\n");
ok($t->wait_log(qr/"listen_allow" applies to a TCP socket only/),
   'listen_allow on a unix socket: a warning');
is($t->http_get('/127.0.0.2/hello')->{status}, 502,
   '(nginx points at the TCP port: nobody there)');
{
    my $s = $t->fcgi_connect;
    my $r = FaasTest::fcgi_exchange($s, FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('hello')), timeout => 10);
    like($r->{stdout}, qr/Content-Type/i, '... and the unix socket serves');
}

$t->done;

done_testing;
