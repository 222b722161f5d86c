#!/usr/bin/perl

# A function is no client of its runner. With a TCP listen (loopback
# here; a host's own address on the list of listen_allow is the same),
# a function without "net" isolation shares the host's network and can
# connect to the runner, which runs any function as any tenant for
# whoever connects. Promise: a connection from a process of a
# function's user (a customer's own, a tenant's dynamic user, or one an
# operator names in "user") is closed unread and logged; root (the
# test here, nginx's master) and nginx's user are served; a function
# with "net" cannot reach it at all.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path);
use Time::HiRes qw(sleep);

FaasTest::need_root('functions as clients of the runner');

my $t = FaasTest->new;
my $p = $t->prefix;
my $port = FaasTest::free_port();
my ($duid, $dgid) = (getpwnam('daemon'))[2, 3];

# the runner's status, asked over FastCGI: what a client may ask
my $ask = FaasTest::fcgi_request_bytes(params => [FAAS_STATUS => 1,
                                                  REQUEST_METHOD => 'GET',
                                                  QUERY_STRING => '']);

# a function that connects to the runner, asks, and says how many bytes
# it got back; with a file "bind" in its folder, its socket bound to the
# loopback device first (an exact sock_diag lookup does not find it)
my $probe = <<"EOF";
#!/usr/bin/perl
use IO::Socket::INET;
use Socket;
my \$s;
if (-e 'bind') {
    socket(\$s, PF_INET, SOCK_STREAM, 0) or die;
    setsockopt(\$s, SOL_SOCKET, 25, "lo") or die "SO_BINDTODEVICE: \$!";
    connect(\$s, pack_sockaddr_in($port, inet_aton('127.0.0.1')))
        or undef \$s;
    bless \$s, 'IO::Socket::INET' if \$s;
} else {
    \$s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:$port', Timeout => 3);
}
my (\$got, \$all) = (0, '');
if (\$s) {
    open(my \$f, '<', 'ask.bin');
    local \$/;
    print {\$s} readline(\$f);
    \$s->blocking(1);
    my \$end = time + 3;
    while (time < \$end) {
        my \$rin = '';
        vec(\$rin, fileno(\$s), 1) = 1;
        last unless select(\$rin, undef, undef, 0.5);
        my \$n = sysread(\$s, my \$buf, 65536);
        last unless \$n;
        \$all .= \$buf;
    }
    \$got = length \$all;
}
print "Content-Type: text/plain\\r\\n\\r\\n",
      \$s ? "got \$got" : "no connection", "\\n";
EOF

# a function run as nginx's user (a php-fpm pool's www-data, migrated)
$t->function('wwwfn', "exec = ./probe.pl\nmode = cgi\nuser = www-data\n",
             'probe.pl' => $probe);

for my $name ('tenantfn', 'customerfn', 'netfn', 'boundfn', 'operatorfn') {
    my $conf = "exec = ./probe.pl\nmode = cgi\n"
             . ($name eq 'netfn' ? "isolation = tmp pid ipc net\n" : '')
             . ($name eq 'operatorfn' ? "user = nobody\n" : '');
    my $dir = $t->function($name, $conf, 'probe.pl' => $probe);
    FaasTest::write_file("$dir/ask.bin", $ask);
    FaasTest::write_file("$dir/bind", '') if $name eq 'boundfn';
    chmod 0644, "$dir/ask.bin";
    system('chown', '-R', "$duid:$dgid", $dir) == 0 or die
        if $name eq 'customerfn';
}

# listen_owner root, as the package's runner.conf: nginx is still known
# (www-data, listen_group's users)
$t->start_runner(conf => "listen = 127.0.0.1:$port\nlisten_owner = root\n");

# the test is root: served
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 3)
    or die "connect: $!";
my $r = FaasTest::fcgi_exchange($s, $ask, timeout => 5);
like($r->{stdout}, qr/"functions"/, 'root, over TCP: the status');
close $s;

# fcgi-runner status to a name of two addresses, the first with nobody
# there (::1: localhost on many hosts): the second is tried
{
    my $p = $t->prefix;
    FaasTest::write_file("$p/hosts", "::1 faas-two\n127.0.0.1 faas-two\n");
    my $bin = $t->runner_bin_name;
    my $sh = "mount --bind $p/hosts /etc/hosts && exec $bin status "
             . "--listen faas-two:$port --format json";
    my $out = `timeout 20 unshare -m sh -c '$sh' 2>&1`;
    is($?, 0, 'status to a name of ::1 (no runner) and 127.0.0.1: exit 0')
        or diag($out);
    like($out, qr/"functions"/, '... the status from the second address');
}

# functions, through nginx over the same TCP listen
$t->start_nginx($t->faas_location =~ s{server unix:\S+;}{server 127.0.0.1:$port;}r);

is($t->http_get('/fn/tenantfn')->{body}, "got 0\n",
   'a function of a dynamic user connects: closed unread');
is($t->http_get('/fn/customerfn')->{body}, "got 0\n",
   'a customer\'s function: the same');
is($t->http_get('/fn/operatorfn')->{body}, "got 0\n",
   'a function of root\'s folder run as the user it names (nobody): the '
   . 'same');
like($t->runner_log, qr/connection refused \(from a process of a function's user\): a function's user is no client of the runner/,
     '... and it is logged');
sleep 1.1;    # a line a second at most
is($t->http_get('/fn/boundfn')->{body}, "got 0\n",
   'one whose socket is bound to the loopback device (sock_diag does not '
   . 'show it): closed unread too');
like($t->runner_log, qr/connection refused \(from this host, its socket hidden\)/,
     '... said');
is($t->http_get('/fn/netfn')->{body}, "no connection\n",
   'a function with "net": no runner to reach');
like($t->http_get('/fn/tenantfn')->{body}, qr/^got 0$/,
   'nginx, through the same listen, is still served (the function still '
   . 'refused)');

is($t->stop_runner, 0, 'the runner stops cleanly');

$t->done;
done_testing;
