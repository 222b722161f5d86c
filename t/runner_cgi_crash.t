#!/usr/bin/perl

# A CGI process that crashes (dies by a signal) after part of its
# response was sent: the response is cut, as a FastCGI worker's crash
# (no END_REQUEST, so nginx sees an upstream error and never ends the
# chunked body), and the outcome is crashed. The response's end waits
# for the process's exit as well as for its stdout's end; one that
# closes its output and works on (the CGI way to answer early) still
# ends its response without waiting for its exit. A CGI that exits with
# a code after partial output is a whole response, byte for byte as
# fcgiwrap gives it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);

my $t = FaasTest->new;
my $p = $t->prefix;
my $fn = $t->testfn;

my $head = "printf 'Content-Type: text/plain\\r\\n\\r\\npartial'";
my %cgi = (
    # the issue's reproduction
    segv => "$head\nkill -SEGV \$\$\n",
    # stdout closed first, then the crash: the end waits for the exit
    closedsegv => "$head\nexec >&-\nkill -SEGV \$\$\n",
    # an exit code is no crash: a whole response
    exit3 => "$head\nexit 3\n",
    # answers early, works on: not held until its exit
    early => "$head\nexec >&- 2>&-\nsleep 3\n",
    # burns CPU, then crashes before a word: a 502, billed what it used
    silentsegv => "i=0; while [ \$i -lt 300000 ]; do i=\$((i+1)); done\n"
                  . "kill -SEGV \$\$\n",
    # no crash, and no answer: nothing, a body with no header block, a
    # line that is no header, nothing and its output closed early
    silent0 => "exit 0\n",
    nohead => "echo hello\n",
    badhead => "printf 'no header here\\r\\n\\r\\nbody'\n",
    closedsilent => "exec >&-\nsleep 0.3\n",
);
for my $name (sort keys %cgi) {
    $t->function($name, "exec = ./run.sh\nmode = cgi\ntimeout = 10s\n",
                 'run.sh' => "#!/bin/sh\n$cgi{$name}");
}
# without a pid namespace the runner reaps the script itself, not
# faas-init reporting its death
$t->function('segvopen', "exec = ./run.sh\nmode = cgi\nisolation = none\n",
             'run.sh' => "#!/bin/sh\n$cgi{segv}");
$t->function('fcrash', "exec = $fn\n");

# a CGI without isolation too: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");

# fcgiwrap, for the whole responses: as the user CGI processes run as
my $user = $> == 0 ? 'nobody' : getpwuid($>);
mkdir "$p/wrap";
chown scalar(getpwnam($user)), -1, "$p/wrap" if $> == 0;
my $wrap = fork // die;
if ($wrap == 0) {
    alarm 0;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$p/logs/fcgiwrap.log";
    open STDERR, '>&', \*STDOUT;
    POSIX::setpgid(0, 0);
    if ($> == 0) {
        my ($uid, $gid) = (getpwnam($user))[2, 3];
        POSIX::setgid($gid);
        $) = "$gid $gid";
        POSIX::setuid($uid);
    }
    exec 'fcgiwrap', '-c', '2', '-s', "unix:$p/wrap/sock"
        or POSIX::_exit(127);
}
ok(FaasTest::wait_for(sub { -S "$p/wrap/sock" }, 10), 'fcgiwrap is up');
chmod 0777, "$p/wrap/sock";

my $sock = $t->socket_path;
my ($stock, $wport) = (FaasTest::free_port(), FaasTest::free_port());
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
                    location => "access_log $p/logs/meter.log faas_meter;")
                . <<"EOF");
    upstream stock { server unix:$sock; keepalive 4; }
    server {
        listen 127.0.0.1:$stock;
        location ~ ^/fn/(?<fname>[^/]*) {
            # as the README's: without it, nginx takes the close of the
            # connection for the end of any response
            fastcgi_pass stock;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$fname;
        }
    }
    server {
        listen 127.0.0.1:$wport;
        location ~ ^/fn/(?<fname>[^/]*) {
            fastcgi_pass unix:$p/wrap/sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/functions/\$fname/run.sh;
        }
    }
EOF

sub get11 {
    my ($port, $uri) = @_;
    local $t->{port} = $port;
    return $t->http("GET $uri HTTP/1.1\r\nHost: localhost\r\n"
                    . "Connection: close\r\n\r\n", timeout => 15);
}

# a chunked body ended by its last chunk, or not
sub ended { ($_[0] && $_[0]{raw} =~ /\r\n0\r\n\r\n\z/) ? 1 : 0 }

sub meter_line {
    my ($fname) = @_;
    my $l;
    FaasTest::wait_for(sub {
        ($l) = grep { /function=\Q$fname\E / }
               split /\n/, FaasTest::read_file("$p/logs/meter.log");
        defined $l;
    }, 5);
    return $l // '';
}

# --- a crash before any output: 502, metered (cpu, memory, init) ---------

{
    my $r = $t->http_get('/fn/silentsegv');
    is($r->{status}, 502, 'a CGI that crashes before a word: 502');
    my $l = meter_line('silentsegv');
    like($l, qr/ outcome=crashed /, '... outcome crashed');
    my ($cpu, $mem, $dur) = $l =~ / cpu=(\S+) memory=(\S+)/ ? ($1, $2) : ();
    ok(defined $cpu && $cpu ne '-' && $cpu > 50,
       "... the CPU it burnt billed (cpu=" . ($cpu // 'none') . ')');
    ok(defined $mem && $mem ne '-' && $mem > 0,
       "... its peak memory (memory=" . ($mem // 'none') . ')');
}

# --- a crash after partial output: cut, crashed, in both modes -------------

for my $c ([ 'segv', 'CGI' ], [ 'closedsegv', 'CGI, stdout closed first' ],
           [ 'segvopen', 'CGI, isolation = none' ],
           [ 'fcrash?op=crash&flush=1', 'FastCGI' ])
{
    my ($uri, $what) = @$c;
    (my $name = $uri) =~ s/\?.*//;
    my $r = get11($t->port, "/fn/$uri");
    is($r && $r->{status}, 200, "$what crash after partial output: the "
       . '200 had gone out');
    like($r && $r->{raw}, qr/partial/, "$what: with the part sent");
    is(ended($r), 0, "$what: the chunked body is cut, never ended");
    like(meter_line($name), qr/ outcome=crashed /, "$what: outcome crashed");

    $r = get11($stock, "/fn/$uri");
    like($r && $r->{raw}, qr/partial/, "$what through stock fastcgi_pass: "
         . 'the part sent');
    is(ended($r), 0, "$what through stock fastcgi_pass: cut");
}

like($t->runner_log, qr/CGI function "segv" \(pid \d+\) exited on signal 11/,
     'the CGI crash is logged with its signal');
like($t->error_log, qr/upstream prematurely closed/,
     'nginx saw an upstream error');

# raw FastCGI, metered: no END_REQUEST, the measurements say crashed
my $x = $t->fcgi_call('segv', params => [ FAAS_METER => 1 ], timeout => 15);
ok($x->{eof} && !$x->{ended}, 'raw FastCGI: the connection closed, no '
   . 'END_REQUEST');
like($x->{stdout}, qr/partial\z/, '... after the part sent');
my ($m) = map { $_->[2] } grep { $_->[0] == 100 } @{ $x->{records} };
like($m // '', qr/\x07\x07outcomecrashed/, '... its measurements: crashed');

# --- no crash, no answer: 502, outcome error (as a FastCGI function's
# empty STDOUT; it was crashed)

for my $name (qw(silent0 nohead badhead closedsilent)) {
    my $r = get11($t->port, "/fn/$name");
    is($r && $r->{status}, 502, "$name: 502");
    like(meter_line($name), qr/ outcome=error /, "$name: outcome error");
}
like($t->runner_log, qr/CGI function "silent0" \(pid \d+\) sent no response/,
     'logged: sent no response');
like($t->runner_log, qr/CGI function "badhead" \(pid \d+\) sent an invalid(?x)
                        \ header/, 'logged: an invalid header');

# --- no crash: whole responses ---------------------------------------------

my $r = get11($t->port, '/fn/exit3');
is($r && $r->{status}, 200, 'exit 3 after partial output: 200');
is(ended($r), 1, '... a whole chunked body');
like(meter_line('exit3'), qr/ outcome=ok /, '... outcome ok');
my $w = get11($wport, '/fn/exit3');
is(ended($w), 1, 'fcgiwrap: a whole body too');
(my $ours = $r->{raw}) =~ s/^(Date|Server): [^\r]*\r\n//mg;
(my $theirs = $w->{raw}) =~ s/^(Date|Server): [^\r]*\r\n//mg;
is($ours, $theirs, '... the same bytes as fcgiwrap');

my $t0 = time;
$r = get11($t->port, '/fn/early');
my $took = time - $t0;
is(ended($r), 1, 'closed its output and works on: a whole response');
like($r->{raw}, qr/partial/, '... with its body');
ok($took < 2.5, sprintf('... not held until its exit (%.1f s, it works '
                        . '3 s)', $took));
like(meter_line('early'), qr/ outcome=ok /, '... outcome ok');

is($t->http_get('/fn/segv')->{status}, 200, 'the next request is served');

kill 'TERM', -$wrap;
FaasTest::wait_for(sub { waitpid($wrap, POSIX::WNOHANG()) != 0 }, 5)
    or do { kill 'KILL', -$wrap; waitpid($wrap, 0) };
kill 'KILL', -$wrap;

$t->done;

done_testing;
