#!/usr/bin/perl

# Three runners on one PostgreSQL store (the server started by the test
# with initdb and pg_ctl in its prefix, on a unix socket):
# - 1,000 asynchronous invocations spread over them, one runner
#   SIGKILLed half way while it runs 8 slow ones of a function of its
#   own (then given to another runner): every accepted id runs at least
#   once; one that ran twice is one the killed runner had claimed, taken
#   again when its lease ran out, and each such claim is in a log;
# - a schedule (@every 1s) on all three: one run a tick, not three;
# - the database stopped for 5 s: asynchronous requests are refused
#   with 503 and Retry-After (nothing acknowledged that is not stored),
#   synchronous ones are answered meanwhile, and the runners take
#   invocations again once it is back; what was queued before runs;
# - the database slow (a table locked 3 s): synchronous requests are not
#   held up; the asynchronous one is answered 202 once the lock goes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my ($db, $uri) = FaasTest::postgres();

my (%t, %dir);

for my $name (qw(a b c)) {
    my $t = $t{$name} = FaasTest->new;

    # records, then takes a moment: some are running at the kill
    $dir{$name}{rec} = $t->function('rec', "exec = ./run.sh\nmode = cgi\n"
        . "max_instances = 8\ntimeout = 2s\nqueue_timeout = 1s\n",
        'run.sh' => <<"EOF");
#!/bin/sh
body=\$(cat)
echo "\$FAAS_INVOCATION_ID \$FAAS_ATTEMPT $name" >> out/log
sleep 0.05
printf 'Content-Type: text/plain\\r\\n\\r\\nran on $name\\n'
EOF
    $dir{$name}{tick} = $t->function('tick', "exec = ./run.sh\nmode = cgi\n"
        . "schedule = \@every 1s\n", 'run.sh' => <<"EOF");
#!/bin/sh
echo "\$FAAS_INVOCATION_ID $name" >> out/log
printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'
EOF
    # slow ones of b's alone: it holds claims when it is killed; a gets
    # the function once b is gone, and takes them when their leases end
    burst($name) if $name eq 'b';

    for my $d (values %{ $dir{$name} }) {
        mkdir "$d/out";
        chmod 0777, "$d/out";
    }

    $t->start_runner(conf => "store = $uri\nasync_backoff = 200ms\n");
}

sub burst {
    my ($name) = @_;
    $dir{$name}{burst} = $t{$name}->function('burst', "exec = ./run.sh\n"
        . "mode = cgi\nmax_instances = 8\ntimeout = 2s\nqueue_timeout = 1s\n",
        'run.sh' => <<"EOF");
#!/bin/sh
echo "\$FAAS_INVOCATION_ID \$FAAS_ATTEMPT $name" >> out/log
sleep 1
printf 'Content-Type: text/plain\\r\\n\\r\\nran on $name\\n'
EOF
}

sub runs {
    my ($fn, @names) = @_;
    return map { grep { length } split /\n/,
                 FaasTest::read_file("$dir{$_}{$fn}/out/log") }
           grep { $dir{$_}{$fn} } @names ? @names : qw(a b c);
}

sub submit {
    my ($t, $body, $fn) = @_;
    my $r = $t->fcgi_call($fn // 'rec', timeout => 20, params => [
        FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => length $body, CONTENT_TYPE => 'text/plain' ],
        stdin => $body);
    my $h = $r->{http} // {};
    return ($h->{status} // 0, FaasTest::header($h, 'faas-invocation-id'),
            FaasTest::header($h, 'retry-after'));
}

# each runner is connected once it accepts
for my $name (qw(a b c)) {
    ok(FaasTest::wait_for(sub { (submit($t{$name}, 'hello'))[0] == 202 }, 15),
       "runner $name accepts");
}

my %me;
for my $name (qw(a b c)) {
    ($me{$name}) = $t{$name}->runner_log
                   =~ /in PostgreSQL, as runner "([^"]+)"/;
}
ok($me{a} && $me{b} && $me{c} && $me{a} ne $me{b},
   'each runner has a name of its own in the store');

# --- 1,000 over three runners, one killed half way --------------------------

my $t0 = time;
my (@accepted, %refused);
for my $i (1 .. 1000) {
    my @live = $t{b}{runner_pid} ? qw(a b c) : qw(a c);
    my $name = $live[$i % @live];
    if ($i == 500) {
        # a burst of slow ones it claims and runs: gone without a word
        for my $j (1 .. 24) {
            my ($status, $id) = submit($t{b}, "burst$j", 'burst');
            push @accepted, $id if $status == 202 && $id;
        }
        ok(FaasTest::wait_for(sub { runs('burst', 'b') >= 8 }, 10),
           'the runner to be killed runs 8 of its burst');
        kill 'KILL', $t{b}{runner_pid};
        waitpid($t{b}{runner_pid}, 0);
        delete $t{b}{runner_pid};
        burst('a');
        mkdir "$dir{a}{burst}/out";
        chmod 0777, "$dir{a}{burst}/out";
        $t{a}->signal_runner('HUP');
        ok($t{a}->wait_log(qr/function "burst" loaded/),
           'another runner gets the function');
        next;
    }
    my ($status, $id) = submit($t{$name}, "n$i");
    if ($status == 202 && $id) {
        push @accepted, $id;
    } else {
        $refused{$status}++;
    }
}
is(scalar(keys %refused), 0, 'every call accepted by a live runner')
    or diag(explain \%refused);
cmp_ok(scalar @accepted, '>=', 1010, scalar(@accepted) . ' accepted');

my %ran;
ok(FaasTest::wait_for(sub {
    %ran = ();
    $ran{(split / /)[0]}++ for runs('rec'), runs('burst');
    !grep { !$ran{$_} } @accepted;
}, 60), 'every accepted id ran') or diag(scalar(grep { !$ran{$_} } @accepted)
                                         . ' never ran');
# the killed runner's claims are taken again when their leases (6 s) end
ok(FaasTest::wait_for(sub {
    $db->psql("SELECT count(*) FROM faas.invocations WHERE function IN "
              . "('rec', 'burst') AND state <> 2") eq "0\n";
}, 30), 'the store: all succeeded');
%ran = ();
$ran{(split / /)[0]}++ for runs('rec'), runs('burst');

my @twice = grep { $ran{$_} > 1 } @accepted;
my %reclaimed;
for my $name (qw(a c)) {
    for (split /\n/, $t{$name}->runner_log) {
        $reclaimed{$1} = $2
            if /invocation (\w+) of "\w+": the lease of runner "([^"]+)" ran out/;
    }
}
ok(!grep({ !$reclaimed{$_} } @twice), scalar(@twice) . ' ran twice, each '
   . 'a claim taken again after its lease ran out, in the log')
    or diag("twice without a log line: "
            . join(' ', grep { !$reclaimed{$_} } @twice));
cmp_ok(scalar keys %reclaimed, '>=', 1, scalar(keys %reclaimed) . ' claims '
       . 'of the killed runner taken again when their leases ran out');
ok(!grep({ $_ ne $me{b} } values %reclaimed),
   'and every claim taken again was the killed runner\'s');
# what b held when killed: its burst (8 at most) and any rec it had run
# but not yet written the outcome of (8 at most): at least once, not more
cmp_ok(scalar @twice, '<=', 16, 'no more than the killed runner could hold '
       . 'at once (max_instances 8 of burst and of rec)');
my @three = grep { $ran{$_} > 2 } @accepted;
is(scalar @three, 0, 'none ran three times');

# --- the schedule: one run a tick in the fleet -------------------------------

my $secs = time - $t0;
sleep 2 if $secs < 8;
$secs = time - $t0;
my @ticks = runs('tick');
my %tick_ids;
$tick_ids{(split / /)[0]}++ for @ticks;
cmp_ok(scalar @ticks, '<=', $secs + 2,
       scalar(@ticks) . " runs of \@every 1s in ${\ int $secs} s on three "
       . 'runners: one a tick');
cmp_ok(scalar @ticks, '>=', $secs * 0.6, '... and ticks are not lost');
is(scalar(grep { $_ > 1 } values %tick_ids), 0, '... none ran twice');
my ($nticks) = $db->psql("SELECT count(DISTINCT tick) = count(*) FROM "
                         . "faas.ticks WHERE function = 'tick'") =~ /(\w)/;
is($nticks, 't', 'the store holds each tick once');

# --- the database stopped for 5 s ---------------------------------------------

# some queued before it goes
my @before;
for my $i (1 .. 20) {
    my ($status, $id) = submit($t{a}, "before$i");
    push @before, $id if $status == 202;
}
is(scalar @before, 20, '20 accepted before the database stops');

$db->stop_postgres('fast');
my $down = time;
my (%during, $retry, $sync_ok, $sync_slow);
while (time - $down < 5) {
    my ($status, $id, $ra) = submit($t{c}, 'during');
    $during{$status}++;
    $retry //= $ra if $status == 503;
    my $s = time;
    my $r = $t{c}->fcgi_call('rec', timeout => 10);
    $sync_ok++ if ($r->{http}{status} // 0) == 200;
    $sync_slow = time - $s if time - $s > ($sync_slow // 0);
    sleep 0.2;
}
is_deeply([keys %during], [503], 'while it is down: 503 to every '
          . 'asynchronous request') or diag(explain \%during);
is($retry, '1', '... with Retry-After');
cmp_ok($sync_ok // 0, '>=', 5, 'synchronous requests answered meanwhile');
cmp_ok($sync_slow, '<', 2, '... none held up (slowest '
       . sprintf('%.2f s)', $sync_slow));

$db->start_postgres;
my @after;
ok(FaasTest::wait_for(sub {
    my ($status, $id) = submit($t{c}, 'after');
    push @after, $id if $status == 202;
    @after;
}, 20), 'it is back: accepted again');
like($t{c}->runner_log, qr/the PostgreSQL store is back/, '... and said so');
my @outage = $t{c}->runner_log
             =~ /^(\S+ \S+ \[error\] [^\n]*until it is back)$/mg;
is(scalar @outage, 1, 'the outage is said once, on one line')
    or diag(join "\n", @outage);
# what the server says unasked as it stops ("FATAL:  terminating
# connection due to administrator command") is a line of the log, not
# libpq's own on stderr
for my $k (sort keys %t) {
    my @raw = $t{$k}->runner_log =~ /^((?:FATAL|ERROR|WARNING|NOTICE):.*)$/mg;
    ok(!@raw, "runner $k: no line of libpq's outside the log")
        or diag(join "\n", @raw);
}

ok(FaasTest::wait_for(sub {
    %ran = ();
    $ran{(split / /)[0]}++ for runs('rec', 'a', 'c');
    !grep { !$ran{$_} } @before, @after;
}, 30), 'what was accepted before, and after, ran');
ok(FaasTest::wait_for(sub {
    $db->psql("SELECT count(*) FROM faas.invocations WHERE function = 'rec' "
              . "AND state <> 2") eq "0\n";
}, 15), 'and its outcomes are in the store');

# --- the database slow: a lock held 3 s --------------------------------------

# (runner a back on the database too: it reconnects on its own time)
ok(FaasTest::wait_for(sub {
    $t{a}->runner_log =~ /the PostgreSQL store is back/ }, 30),
   'runner a is back on the database');

my $lock = $db->lock_table('faas.invocations', 3);
sleep 0.5;
my $s = time;
my $pending = $t{a}->fcgi_connect;
syswrite($pending, FaasTest::fcgi_request_bytes(
    params => FaasTest::fcgi_default_params('rec', FAAS_INVOCATION => 'async',
        REQUEST_METHOD => 'POST', CONTENT_LENGTH => 4), stdin => 'slow',
    keep => 0));
my $sync = $t{a}->fcgi_call('rec', timeout => 10);
my $sync_time = time - $s;
is($sync->{http}{status}, 200, 'the database locked: a synchronous request '
   . 'is answered');
cmp_ok($sync_time, '<', 1.5, sprintf('... at once (%.2f s), not after the '
                                     . 'lock', $sync_time));
my $ar = FaasTest::fcgi_read($pending, timeout => 20);
my $astatus = (FaasTest::http_parse($ar->{stdout}) // {})->{status} // 0;
my $atime = time - $s;
is($astatus, 202, 'the asynchronous one: 202 once the lock is gone');
cmp_ok($atime, '>', 1.5, sprintf('... not before (%.2f s)', $atime));
waitpid($lock, 0);

# --- a role that may not make the schema, only use it ------------------------

$db->psql("CREATE ROLE app LOGIN; GRANT USAGE ON SCHEMA faas TO app; "
          . "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
          . "faas TO app");
my $app = FaasTest->new;
# a function of its own: the fleet's runners would run a "rec" of it
my $adir = $app->function('least', "exec = ./run.sh\nmode = cgi\n",
    'run.sh' => "#!/bin/sh\necho \"\$FAAS_INVOCATION_ID\" >> out/log\n"
                . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
mkdir "$adir/out";
chmod 0777, "$adir/out";
(my $app_uri = $uri) =~ s{//faas@}{//app@};
$app->start_runner(conf => "store = $app_uri\n");
my ($ast, $aid);
FaasTest::wait_for(sub { ($ast, $aid) = submit($app, 'least', 'least');
                         $ast != 503 }, 15);
is($ast, 202, 'a role with rights on the rows only: accepted');
ok(FaasTest::wait_for(sub {
    FaasTest::read_file("$adir/out/log") =~ /\Q$aid\E/ }, 15), '... and run');
unlike($app->runner_log, qr/refused its schema/, '... its setup refused '
       . 'nothing');
$app->done;

$t{$_}->done for qw(a c);
$t{b}->kill_all;
$db->done;

done_testing;
