#!/usr/bin/perl

# Bounds on stored asynchronous invocations not yet run: a function's
# async_max_queued and its tenant's tenant.NAME.async_max_queued; past
# either, 503 with Retry-After and nothing stored; room again once they
# run. Malformed values are --test errors with file and line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $p = $t->prefix;

# one at a time, 1 s each: what is accepted behind the first waits
my $run = <<'EOF';
#!/bin/sh
body=$(cat)
echo "start $body" >> out/log
sleep 1
echo "end $body" >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

my %dir;
$dir{few} = $t->function('few', "exec = ./run.sh\nmode = cgi\n"
                         . "max_instances = 1\nasync_max_queued = 3\n",
                         'run.sh' => $run);
$dir{a} = $t->function('a', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
                       . "tenant = small\n", 'run.sh' => $run);
$dir{b} = $t->function('b', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
                       . "tenant = small\n", 'run.sh' => $run);
for my $d (values %dir) {
    mkdir "$d/out";
    chmod 0777, "$d/out";
}

sub lines {
    my ($name) = @_;
    return grep { length } split /\n/,
           FaasTest::read_file("$dir{$name}/out/log");
}

$t->start_runner(conf => "tenant.small.async_max_queued = 2\n");
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

sub post {
    my ($fn, $body) = @_;
    return $t->http_post("/async/$fn", $body);
}

# --- a function's async_max_queued ----------------------------------------

is(post('few', 'f1')->{status}, 202, 'few: the first accepted');
ok(FaasTest::wait_for(sub { grep { $_ eq 'start f1' } lines('few') }, 10),
   'few: ... and running');
is(post('few', "f$_")->{status}, 202, "few: f$_ accepted, queued") for 2 .. 4;

my $r = post('few', 'f5');
is($r->{status}, 503, 'few: a fourth queued is over async_max_queued 3: 503');
is(FaasTest::header($r, 'retry-after'), '1', '... with Retry-After');
like($t->runner_log, qr/function "few": 3 asynchronous invocations queued, async_max_queued 3/,
     '... and the log says why');

ok(FaasTest::wait_for(sub { grep { $_ eq 'start f2' } lines('few') }, 10),
   'few: once one runs ...');
is(post('few', 'f6')->{status}, 202, '... there is room again: 202');

ok(FaasTest::wait_for(sub { grep { $_ eq 'end f6' } lines('few') }, 30),
   'few: all accepted ran');
is(join(',', map { /^end (\w+)/ ? $1 : () } lines('few')),
   'f1,f2,f3,f4,f6', 'few: all but the refused one, in order');

# --- a tenant's async_max_queued ------------------------------------------

is(post('a', 'a1')->{status}, 202, 'a: accepted');
is(post('b', 'b1')->{status}, 202, 'b: accepted');
ok(FaasTest::wait_for(sub { (grep { /^start/ } lines('a'))
                            && (grep { /^start/ } lines('b')) }, 10),
   'a and b running');
is(post('a', 'a2')->{status}, 202, 'a: one queued');
is(post('b', 'b2')->{status}, 202, 'b: one queued');
$r = post('a', 'a3');
is($r->{status}, 503, "a third queued of tenant small (its bound 2): 503, "
   . "though a's own bound is far");
is(FaasTest::header($r, 'retry-after'), '1', '... with Retry-After');
like($t->runner_log, qr/tenant "small": 2 asynchronous invocations queued, async_max_queued 2 \(function "a"\)/,
     '... and the log says why');
is(post('few', 'f7')->{status}, 202, 'another tenant is not bound by it');

ok(FaasTest::wait_for(sub { (grep { $_ eq 'end a2' } lines('a'))
                            && (grep { $_ eq 'end b2' } lines('b')) }, 30),
   'the tenant\'s accepted ran');
is(scalar(grep { /a3/ } lines('a')), 0, 'the refused one did not');
is(post('a', 'a4')->{status}, 202, 'room again: 202');
ok(FaasTest::wait_for(sub { grep { $_ eq 'end a4' } lines('a') }, 30),
   '... and it runs');

# --- malformed values: --test ---------------------------------------------

my $bin = "$FaasTest::BUILD/fcgi-runner";
my $t2 = FaasTest->new;
$t2->function('bad', "exec = ./x.sh\nmode = cgi\nasync_max_queued = lots\n",
              'x.sh' => "#!/bin/sh\n");
$t2->function('neg', "exec = ./x.sh\nmode = cgi\nasync_max_queued = -1\n",
              'x.sh' => "#!/bin/sh\n");
my $out = `$bin --test --functions @{[ $t2->functions_dir ]} 2>&1`;
is($? >> 8, 1, '--test: a malformed async_max_queued exits 1');
like($out, qr{invalid value "lots" of "async_max_queued" in \S*/bad/function\.conf:3},
     '... "lots", with file and line');
like($out, qr{invalid value "-1" of "async_max_queued" in \S*/neg/function\.conf:3},
     '... "-1"');

my $conf = $t2->prefix . '/runner.conf';
FaasTest::write_file($conf, $t2->runner_conf_text(
    "tenant.small.async_max_queued = 2x\n"));
$out = `$bin --test --config $conf 2>&1`;
is($? >> 8, 1, '--test: a malformed tenant.NAME.async_max_queued exits 1');
like($out, qr{invalid "tenant\.small\.async_max_queued = 2x" in \S*runner\.conf:\d+},
     '... with file and line');

FaasTest::write_file($conf, $t2->runner_conf_text(
    "tenant.small.async_max_queued = 5\nasync_max_queued = 100\n"));
$t2->remove_function($_) for qw(bad neg);
$t2->function('good', "exec = ./x.sh\nmode = cgi\nasync_max_queued = 0\n",
              'x.sh' => "#!/bin/sh\n");
$out = `$bin --test --config $conf 2>&1`;
is($? >> 8, 0, '--test: well-formed ones (runner default, tenant, 0) pass')
    or diag($out);

$t->done;

done_testing;
