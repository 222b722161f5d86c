#!/usr/bin/perl

# The nginx side of runners on many hosts (loopback addresses stand in
# for hosts): one upstream of runners, `hash $faas_function consistent`,
# so a function's requests go to one runner (its warm workers stay
# there); a runner that goes away moves its functions to the others
# and an idempotent request loses nothing; a POST that reached a dying
# runner is never sent twice; a runner that comes back takes its
# functions back. conf/faas-multihost.conf is the example this tests.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my @fns = map { "f$_" } 1 .. 24;
my %host = (a => '127.0.0.2', b => '127.0.0.3');
my (%t, %port);

for my $h (sort keys %host) {
    my $t = $t{$h} = FaasTest->new;
    $port{$h} = FaasTest::free_port();
    for my $f (@fns) {
        # isolation none: it writes where the test reads (an isolated
        # function has a /tmp of its own)
        $t->function($f, "exec = ./run.sh\nmode = cgi\nisolation = none\n",
                     'run.sh' => "#!/bin/sh\n"
                                 . "[ \"\$REQUEST_METHOD\" = POST ] && echo "
                                 . "\"\$\$\" >> $t->{prefix}/posts.d/posts\n"
                                 . "[ \"\$QUERY_STRING\" = slow ] && sleep 2\n"
                                 . "printf 'Content-Type: text/plain"
                                 . "\\r\\n\\r\\nhost $h\\n'\n");
    }
    mkdir "$t->{prefix}/posts.d";
    chmod 0777, "$t->{prefix}/posts.d";
    $t->start_runner(conf => "listen = $host{$h}:$port{$h}\n"
                             . "limit_isolation = none\n");
}

my $example = FaasTest::read_file("$FaasTest::ROOT/conf/faas-multihost.conf");
like($example, qr/hash \$faas_function consistent;/,
     'the example config hashes by function');

my $t = $t{a};
$t->{port} = FaasTest::free_port();
$t->start_nginx(<<"EOF");
    upstream runners {
        hash \$faas_function consistent;
        server $host{a}:$port{a} max_fails=1 fail_timeout=2s;
        server $host{b}:$port{b} max_fails=1 fail_timeout=2s;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:$t->{port};

        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)\$ \$fname;
            faas_pass runners;
            faas_connect_timeout 2s;
        }
    }
EOF

sub where {
    my ($f, $method) = @_;
    my $r = $method
        ? $t->http_post("/fn/$f", 'x', timeout => 20)
        : $t->http_get("/fn/$f", timeout => 20);
    return ($r && $r->{status} == 200 && $r->{body} =~ /^host (\w)/)
           ? $1 : "status " . ($r ? $r->{status} : 'none');
}

my %home;
my $stable = 1;
for my $f (@fns) {
    $home{$f} = where($f);
    for (1 .. 3) {
        $stable = 0 if where($f) ne $home{$f};
    }
}
ok($stable, 'each function always reaches the same runner');
my %count;
$count{$home{$_}}++ for @fns;
ok($count{a} && $count{b},
   "both runners have functions (a: @{[ $count{a} // 0 ]}, "
   . "b: @{[ $count{b} // 0 ]})");
ok(!grep({ $home{$_} !~ /^[ab]$/ } @fns), 'every answer a 200 from a runner')
    or diag(join ' ', map { "$_=$home{$_}" } @fns);

# runner b goes away (a host lost): its functions move, nothing lost
kill 'KILL', $t{b}->runner_pid;
$t{b}->wait_runner(10);

my @moved = grep { $home{$_} eq 'b' } @fns;
my @lost = grep { where($_) ne 'a' } @fns;
is("@lost", '', 'with runner b gone, every function answers from a');
my @kept = grep { $home{$_} eq 'a' && where($_) ne 'a' } @fns;
is("@kept", '', "a's functions stay on a");

# runner b back: it takes its functions back
$t{b}->start_runner(conf => "listen = $host{b}:$port{b}\n"
                         . "limit_isolation = none\n");
ok(FaasTest::wait_for(sub { where($moved[0]) eq 'b' }, 10),
   'runner b back: its functions come back');

# a POST in flight on b when b dies: not sent to a as well (502), and
# it ran once
my $pf = $moved[0];
unlink "$t{b}{prefix}/posts.d/posts", "$t{a}{prefix}/posts.d/posts";
{
    my $pid = fork // die;
    if ($pid == 0) {
        sleep 0.7;
        kill 'KILL', $t{b}->runner_pid;
        POSIX::_exit(0);
    }
    my $r = $t->http_post("/fn/$pf?slow", 'x' x 10, timeout => 20);
    waitpid($pid, 0);
    is($r && $r->{status}, 502, 'a POST whose runner died mid-request: 502');
}
$t{b}->wait_runner(10);
my %posts;
for my $h ('a', 'b') {
    my $f = "$t{$h}{prefix}/posts.d/posts";
    $posts{$h} = -e $f ? () = FaasTest::read_file($f) =~ /\n/g : 0;
}
is($posts{b}, 1, '... it ran on b once');
is($posts{a}, 0, '... and was never sent to a');

# a GET in flight on b when b dies: idempotent, sent to a, answered
$t{b}->start_runner(conf => "listen = $host{b}:$port{b}\n"
                         . "limit_isolation = none\n");
ok(FaasTest::wait_for(sub { where($pf) eq 'b' }, 10), 'runner b back again');
{
    my $pid = fork // die;
    if ($pid == 0) {
        sleep 0.7;
        kill 'KILL', $t{b}->runner_pid;
        POSIX::_exit(0);
    }
    my $r = $t->http_get("/fn/$pf?slow", timeout => 20);
    waitpid($pid, 0);
    is($r && $r->{status}, 200, 'a GET whose runner died mid-request: 200');
    like($r && $r->{body}, qr/^host a/, '... from the other runner');
}
$t{b}->wait_runner(10);

$t{b}->start_runner(conf => "listen = $host{b}:$port{b}\n"
                         . "limit_isolation = none\n");
$t{$_}->done for sort keys %t;

done_testing;
