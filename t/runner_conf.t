#!/usr/bin/perl

# Configuration: --test reports every problem with file and line and
# exits 1; a bad function never keeps the others from loading; usage
# errors exit 2; the socket's owner, group and mode; TCP listening.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $fn = FaasTest::testfn();
my $bin = "$FaasTest::BUILD/fcgi-runner";

sub run {
    my (@args) = @_;
    my $out = `$bin @args 2>&1`;
    return ($? >> 8, $out);
}

my $t = FaasTest->new;
$t->function('good', "# a comment\nexec = $fn   # trailing comment\n"
                     . "timeout = 1500ms\nmemory = 64M\nidle_timeout = 2m\n");
$t->function('typo', "exec = $fn\nmax_instance = 3\n");
$t->function('values', "exec = $fn\nmode = fast\nqueue = -1\n"
                       . "timeout = 10 parsecs\nmemory = 12Q\n");
$t->function('noexec', "mode = cgi\n");
$t->function('missing', "exec = ./nope\n");
$t->function('limits', "exec = $fn\nmin_instances = 5\nmax_instances = 2\n");
$t->function('envname', "exec = $fn\nenv.1BAD = x\nenv.OK_1 = y\n");
# what started an invocation is the runner's to say, never a function's
$t->function('envfaas', "exec = $fn\nenv.FAAS_TRIGGER = async\n"
                        . "env.FAAS_ATTEMPT = 9\nenv.FAAS_INVOCATION_ID = x\n"
                        . "env.FAAS_OTHER = fine\n");
$t->function('syntax', "exec = $fn\njust some words\n");
# a unit forgotten, two isolations at once
$t->function('tiny', "exec = $fn\nmemory = 512\nisolation = none tmp\n");
$t->function('bad.name', "exec = $fn\n");
# a line that does not parse hides none of the others
$t->function('several', "exec = $fn\nnot a key\nmax_instances = 0\n"
                        . "timeout = 0\n");
# no wait for a worker at all: every cold start was a 503
$t->function('nowait', "exec = $fn\nqueue_timeout = 0\n");
# a runtime's or a document_root's keys where they mean nothing: said,
# not silently ignored
$t->function('strayapp', "exec = $fn\napp = web:app\n");
$t->function('straypath', "exec = $fn\npython.path = lib\n");
$t->function('strayindex', "exec = $fn\nindex = home.sh\n");
# a root runner's function whose (dynamic) user cannot enter its folder
my $locked = $t->function('locked', "exec = $fn\n");
chmod 0700, $locked;
# ... whose program, script or runtime is in it: the folder is the
# problem, said once, not its program too (at line 0 for a runtime's)
for (['lockedcgi', "exec = ./x.sh\nmode = cgi\n", 'x.sh' => "#!/bin/sh\n"],
     ['lockedpy', "runtime = python\napp = web:app\n",
      'web.py' => "app = None\n"],
     ['lockedphp', "runtime = php\nscript = index.php\n",
      'index.php' => "<?php\n"])
{
    chmod 0700, $t->function(@$_);
}

my $d = $t->functions_dir;
my ($rc, $out) = run('--test', '--functions', $d);
is($rc, 1, '--test with problems exits 1');
like($out, qr{unknown key "max_instance" in \S*/typo/function.conf:2},
     'unknown key, with file and line');
like($out, qr{invalid value "fast" of "mode" in \S*/values/function.conf:2},
     'bad mode');
like($out, qr{invalid value "-1" of "queue" in \S*values/function.conf:3},
     'negative number');
like($out, qr{invalid value "10 parsecs" of "timeout" in \S*:4}, 'bad unit');
like($out, qr{invalid value "12Q" of "memory" in \S*:5}, 'bad size');
like($out, qr{invalid value "512" of "memory" in \S*/tiny/function.conf:2},
     'memory = 512 (bytes: no program starts)');
like($out, qr{invalid value "none tmp" of "isolation" in \S*/tiny/function.conf:3},
     'isolation = none tmp');
like($out, qr{\S*/noexec/function.conf:1: no "exec" in the file},
     'missing exec key, with the file and its last line');
like($out, qr{missing/function.conf:\d+: function "missing": exec "\./nope" is not an executable file},
     'exec that does not exist');
like($out, qr{/limits/function\.conf:\d+: min_instances 5 is more than max_instances 2},
     'min over max');
like($out, qr{invalid environment variable name "1BAD" in \S*:2},
     'bad env name');
for (['FAAS_TRIGGER', 2], ['FAAS_ATTEMPT', 3], ['FAAS_INVOCATION_ID', 4]) {
    like($out, qr{invalid environment variable name "$_->[0]" in \S*envfaas/function\.conf:$_->[1]: the runner's to set},
         "env.$_->[0]: refused with file and line");
}
unlike($out, qr{"FAAS_OTHER"}, '... another FAAS_ name is fine');
like($out, qr{expected "key = value" in \S*/syntax/function.conf:2},
     'a line that is no key = value');
like($out, qr{"\S*/bad\.name" is not a valid function name}, 'bad folder');
like($out, qr{expected "key = value" in \S*/several/function.conf:2},
     'several problems: the syntax error');
like($out, qr{/several/function\.conf:3: max_instances is 0},
     '... and the next one, with its line');
like($out, qr{/several/function\.conf:4: timeout is 0}, '... and the next');
like($out, qr{invalid value "0" of "queue_timeout" in \S*/nowait/function.conf:2},
     'queue_timeout = 0');
like($out, qr{/strayapp/function\.conf:2: app and python\.path are for (?x)
              runtime\ =\ python}, 'app without runtime = python');
like($out, qr{/straypath/function\.conf:2: app and python\.path are for},
     'python.path without runtime = python');
like($out, qr{/strayindex/function\.conf:2: index is for document_root},
     'index without document_root');
if ($> == 0) {
    like($out, qr{function "locked" cannot start: its user cannot enter "\S*/locked"},
         'a folder its dynamic user cannot enter: a problem for --test');
    for my $name (qw(lockedcgi lockedpy lockedphp)) {
        like($out, qr{function "$name" cannot start: its user cannot enter "\S*/$name"},
             "$name: its folder, which its user cannot enter, said");
        unlike($out, qr{function "$name": (?:exec|script) },
               "... and not its program or script as missing too");
    }
    unlike($out, qr{function\.conf:0:}, 'no problem said at line 0');
}
like($out, qr/\d+ problems found/, 'the count');
unlike($out, qr/good/, 'nothing said of the good function');

# only the good one
my $t2 = FaasTest->new;
$t2->function('good', "exec = $fn\n");
$t2->function('cgi', "exec = ./x.sh\nmode = cgi\n", 'x.sh' => "#!/bin/sh\n");
($rc, $out) = run('--test', '--functions', $t2->functions_dir);
is($rc, 0, '--test of a good folder exits 0');
like($out, qr/configuration is ok/, 'and says so');

# env.NAME and php.NAME: at most 256 each (a file read at every reload;
# 80,000 of them held a reload, and every tenant's requests, 9 s)
{
    my $tp = FaasTest->new;
    $tp->function('envfull', "exec = $fn\n"
                  . join('', map { "env.K$_ = 1\n" } 1 .. 256)
                  . "env.K1 = 2\n");
    $tp->function('envover', "exec = $fn\n"
                  . join('', map { "env.K$_ = 1\n" } 1 .. 20000));
    $tp->function('phpover', "runtime = php\n"
                  . join('', map { "php.k$_ = 1\n" } 1 .. 257));
    ($rc, $out) = run('--test', '--functions', $tp->functions_dir);
    is($rc, 1, 'more than 256 env. or php. keys: a problem');
    my $over = 'more than 256 env.NAME keys (said once)';
    like($out, qr{"env\.K257" in \S+/envover/function\.conf:258: \Q$over\E},
         '... said at the first one over');
    like($out, qr{"php\.k257" in \S+/phpover/function\.conf:258: more than},
         '... php.NAME too');
    unlike($out, qr/envfull.*more than/, '256, one of them set again: fine');
    my @said = $out =~ /more than 256/g;
    is(scalar @said, 2, '... once a file');
}

# a key set twice: loaded (the last one holds), never silently
my $tw = FaasTest->new;
$tw->function('twice', "exec = $fn\ntimeout = 5s\nenv.A = 1\n"
              . "timeout = 9s\nenv.A = 2\n");
($rc, $out) = run('--test', '--functions', $tw->functions_dir);
is($rc, 0, 'a key set twice: still a good folder');
like($out, qr{"timeout" set again in \S+/twice/function.conf:4: the last one holds},
     '... said, with its file and line');
like($out, qr{"env.A" set again in \S+/twice/function.conf:5}, '... env.NAME too');

($rc, $out) = run('--no-such-option');
is($rc, 2, 'unknown option exits 2');
like($out, qr/usage: fcgi-runner/, 'with the usage');
($rc, $out) = run('stray');
is($rc, 2, 'stray argument exits 2');
($rc, $out) = run('--config', "$d/none.conf");
is($rc, 1, 'missing config file exits 1');
like($out, qr/open\(\) ".*none.conf" failed/, 'and says why');
($rc, $out) = run('--help');
is($rc, 0, '--help exits 0');
# every command and option DESIGN.md names
like($out, qr/^\s+fcgi-runner $_/m, "--help names \"$_\"")
    for 'meter', 'status', 'invocations', 'invocation ID', 'store migrate',
        'schedule';
like($out, qr/--state-dir DIR.*\n.*--raw/, '... invocation\'s --state-dir '
     . 'and --raw');
like($out, qr/openmetrics\|html/, '... status\'s html format');

# a runner key alone in a runner config: refused with file and line, or
# taken
my $idle = $t->prefix . '/idle';
mkdir "$idle";
mkdir "$idle/functions";
sub runner_key {
    my ($key, $taken, @values) = @_;
    for my $v (@values) {
        FaasTest::write_file("$idle/r.conf", "functions = $idle/functions\n"
                             . "$key = $v\n");
        ($rc, $out) = run('--config', "$idle/r.conf", '--test');
        if ($taken) {
            like($out, qr/configuration is ok/, "$key = $v: taken");
            next;
        }
        is($rc, 1, "$key = '$v': refused");
        like($out, qr{invalid value "\Q$v\E" of "$key" in \S*r.conf:2},
             '... with file and line');
    }
}

# meter_idle_interval: a time, refused when it is none or out of range
runner_key('meter_idle_interval', 0, '', '-1', 'abc', '25d', '1e3s');
runner_key('meter_idle_interval', 1, '0', '1ms', '99999999999h');

# a cap of descriptors no function can keep to (max_files is 4 or more)
runner_key('limit_files', 0, 1, 3);
runner_key('limit_files', 1, 0, 4);

# at run time the good function serves beside the broken ones
$t->start_runner;
$t->start_nginx;
is($t->http_get('/fn/good')->{status}, 200, 'good function serves');
is($t->http_get('/fn/typo')->{status}, 404, 'broken one is not loaded');
is($t->http_get('/fn/missing')->{status}, 502, 'missing exec: loaded, 502');

my @st = stat $t->socket_path;
is($st[2] & 07777, 0660, 'socket mode 0660 by default');
SKIP: {
    skip 'not root', 1 unless $> == 0;
    is($st[5], (getgrnam('www-data'))[2], 'listen_group applied');
}
$t->done;

# listen_mode and listen_owner; TCP
my $t3 = FaasTest->new;
$t3->function('good', "exec = $fn\n");
$t3->start_runner(conf => "listen_mode = 0600\n"
                          . ($> == 0 ? "listen_owner = nobody\n" : ''));
@st = stat $t3->socket_path;
is($st[2] & 07777, 0600, 'listen_mode = 0600');
SKIP: {
    skip 'not root', 1 unless $> == 0;
    is($st[4], (getpwnam('nobody'))[2], 'listen_owner applied');
}
$t3->done;

# a value found wrong past the parse (an address, a user, a store, a
# network) is said with the file and line that set it, as every other
# problem --test finds (a stranger's pass: they had neither)
my $tl = FaasTest->new;
my $dl = $tl->prefix;
mkdir "$dl/f";
for my $kv ('listen = nowhere', 'listen = unix:', 'listen = 10.9.8.7:80',
            'listen_owner = no_such_user_x', 'listen_group = no_such_group_x',
            'store = sqlite:x', 'store = postgresql://h:99999/db',
            'store = postgresql://h/db?sslmode=maybe',
            'listen_allow = 10.0.0.0/33', 'listen_allow = ,',
            'listen_mode = 12345', 'listen_mode = 1777')
{
    FaasTest::write_file("$dl/r.conf", "functions = $dl/f\n# a comment\n"
                         . "state_dir = $dl/state\n$kv\n");
    ($rc, $out) = run('--test', '--config', "$dl/r.conf");
    is($rc, 1, "'$kv': a problem");
    like($out, qr{\Q$dl\E/r\.conf:4\b}, "'$kv': said with file and line")
        or diag($out);
}
FaasTest::write_file("$dl/r.conf", "functions = $dl/f\nlisten_mode = 0777\n");
($rc, $out) = run('--test', '--config', "$dl/r.conf");
is($rc, 0, 'listen_mode = 0777 is a mode') or diag($out);

# --listen in place of the file's: not said at the file's line
FaasTest::write_file("$dl/r.conf", "functions = $dl/f\nlisten = unix:/x\n");
($rc, $out) = run('--test', '--config', "$dl/r.conf", '--listen', 'bad');
is($rc, 1, '--listen bad: a problem');
like($out, qr{#\d+: invalid listen address "bad"}, '... not at a line of the file')
    or diag($out);

SKIP: {
    skip 'no faas-php (make, php8.2-dev)', 5
        unless -x "$FaasTest::BUILD/faas-php";
    my $tp = FaasTest->new;
    my $dir = $tp->function('php', "runtime = php\n# ini\nphp.memory_limit"
                            . " = 64M\n");
    chmod 0755, $dir;
    ($rc, $out) = run('--test', '--functions', $tp->functions_dir);
    like($out, qr{php/function\.conf:1: function "php": script "index\.php"}
         , 'php without index.php: said at its runtime line') or diag($out);
    unlike($out, qr{function\.conf:0\b}, '... never a line 0');
    FaasTest::write_file("$dir/function.conf", "runtime = php\nscript = i.php"
                         . "\n\nphp.nosuch_ini_x = 1\n");
    FaasTest::write_file("$dir/i.php", "<?php echo 1;\n");
    chmod 0644, "$dir/i.php";
    ($rc, $out) = run('--test', '--functions', $tp->functions_dir);
    is($rc, 1, 'a php.NAME PHP does not take: a problem');
    like($out, qr{php/function\.conf:4: a php\.NAME}, '... at its line')
        or diag($out);
    # its own good, a default of the runner config's not: both named
    FaasTest::write_file("$dl/rp.conf", 'functions = ' . $tp->functions_dir
                         . "\nstate_dir = $dl/state2\nphp.nosuch_dflt_x = 1\n");
    FaasTest::write_file("$dir/function.conf", "runtime = php\nscript = i.php"
                         . "\nphp.memory_limit = 64M\n");
    ($rc, $out) = run('--test', '--config', "$dl/rp.conf");
    like($out, qr{php/function\.conf:3: a php\.NAME that PHP does not take, its own or a default of the runner config's},
         "... a runner config's default: said so") or diag($out);
}

my $t4 = FaasTest->new;
$t4->function('good', "exec = $fn\n");
my $port = FaasTest::free_port();
$t4->start_runner(args => [ '--listen', "127.0.0.1:$port" ]);
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5);
ok($s, 'TCP listen');
my $r = FaasTest::fcgi_exchange($s, FaasTest::fcgi_request_bytes(
            params => FaasTest::fcgi_default_params('good')));
is($r->{http}{status}, 200, 'a request over TCP');
$t4->{socket} = "127.0.0.1:$port";
$t4->done;

done_testing;
