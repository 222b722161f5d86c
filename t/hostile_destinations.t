#!/usr/bin/perl

# Destinations stay within a tenant and never loop. A customer's
# function naming another tenant's function as on_success or on_failure
# is an error at load (and fails --test) with file and line, and its
# output never becomes another tenant's request; the function itself
# stays loaded (a name taken later by another tenant must not take it
# down). A destination's own run sends
# its outcome nowhere: "on_success = selfloop" runs once, then stops.
# A destination of the same tenant still gets the outcome. An outcome
# stored for a destination is not run for another tenant that has taken
# its name by the time it is (re)tried.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Cwd ();
use File::Path qw(make_path);
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);

FaasTest::need_root('destinations across tenants');

my $t = FaasTest->new;
my ($d_uid, $d_gid) = (getpwnam('daemon'))[2, 3];

my $rec = <<'EOF';
#!/bin/sh
body=$(cat)
echo "$FAAS_TRIGGER $body" >> out/log
printf 'Content-Type: text/plain\r\n\r\nran\n'
EOF

my %dir;
sub fn {
    my ($name, $conf, $uid) = @_;
    $dir{$name} = $t->function($name, "exec = ./run.sh\nmode = cgi\n$conf",
                               'run.sh' => $rec);
    make_path("$dir{$name}/out");
    chmod 0777, "$dir{$name}/out";
    system('chown', '-R', "$uid:$uid", $dir{$name}) == 0 or die if $uid;
}

# its script runs: the sleep of its run.sh, in its folder (not its
# prototype, which waits there too)
sub sleeping {
    my ($name) = @_;
    my $dir = Cwd::abs_path($t->functions_dir . "/$name") // return 0;
    for my $c (glob '/proc/[0-9]*/cmdline') {
        my ($pid) = $c =~ m{/proc/(\d+)/};
        next unless (FaasTest::read_file($c) // '') =~ /^sleep\0/;
        return 1 if (FaasTest::proc_cwd($pid) // '') eq $dir;
    }
    return 0;
}

sub lines {
    my ($name) = @_;
    return grep { length } split /\n/,
        FaasTest::read_file("$dir{$name}/out/log");
}

# the customer daemon: one destination of another tenant, one of its own
fn('thief', "on_success = victim\n", $d_uid);
fn('failthief', "# on failure too\non_failure = victim\n", $d_uid);
fn('mine', "on_success = mydest\n", $d_uid);
fn('mydest', '', $d_uid);
# another tenant's function
fn('victim', "tenant = bank\n");
# a function that is its own destination
fn('selfloop', "tenant = loop\non_success = selfloop\n");
# a destination that is no function name, one that names none (yet)
fn('climber', "on_failure = ../x\n");
fn('early', "on_success = later\n");

# --- --test ----------------------------------------------------------------

{
    my $cf = $t->prefix . '/test.conf';
    FaasTest::write_file($cf, $t->runner_conf_text);
    my $out = `$FaasTest::RUNNER --config $cf --test 2>&1`;
    isnt($? >> 8, 0, '--test fails');
    like($out, qr{\Q$dir{thief}\E/function.conf:3: on_success "victim" is a function of another tenant},
         '--test: on_success of another tenant, with file and line');
    like($out, qr{\Q$dir{failthief}\E/function.conf:4: on_failure "victim" is a function of another tenant},
         '--test: on_failure likewise');
    like($out, qr{\Q$dir{climber}\E/function.conf:3: on_failure "\.\./x" is no function name},
         '--test: a destination that is no function name');
    like($out, qr{\Q$dir{early}\E/function.conf:3: on_success "later" names no function \(yet\)},
         '--test: one that names no function is said');
    # (a customer's 0755 folder is warned about, not refused)
    unlike(join("\n", grep { !/other users may read|names no function/ }
                       split /\n/, $out),
           qr{"(mine|selfloop|early)"}, 'a destination of its own tenant is fine');
}

# --- at run time ----------------------------------------------------------

$t->start_runner(conf => "async_backoff = 100ms\n");

like($t->runner_log, qr{thief/function.conf:3: on_success "victim" is a function of another tenant: "thief" sends it no outcome},
     'the log says so');

sub async {
    my ($name) = @_;
    return $t->fcgi_call($name, params => [FAAS_INVOCATION => 'async',
                                           REQUEST_METHOD => 'POST'],
                         stdin => "to $name")->{stdout};
}

# loaded, its outcome refused at each send: a tenant that takes the
# name of another's destination does not take the function down
like(async('thief'), qr/^Status: 202/m, 'the thief runs: 202');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /of "thief": destination "victim" is a function of another tenant, not invoked/ },
                      15), '... its outcome is not sent to the victim');
like(async('failthief'), qr/^Status: 202/m, '... nor the other\'s');
like($t->fcgi_call('victim')->{stdout}, qr/^ran$/m,
     'the victim runs, for its own tenant');

like(async('mine'), qr/^Status: 202/m, 'a destination of its own tenant');
ok(FaasTest::wait_for(sub { lines('mydest') >= 1 }, 15),
   '... gets the outcome');
my ($json) = (lines('mydest'))[0] =~ /^destination (.*)$/;
is(eval { decode_json($json // '') }->{function}, 'mine',
   '... as JSON, FAAS_TRIGGER=destination');

like(async('selfloop'), qr/^Status: 202/m, 'selfloop: accepted');
ok(FaasTest::wait_for(sub { lines('selfloop') >= 2 }, 15),
   'selfloop ran, and ran as its own destination');
sleep 3;
my @l = lines('selfloop');
is(scalar(@l), 2, 'then stopped: twice in all') or diag(scalar(@l) . ' runs');
like($l[0], qr/^async /, '... the invocation');
like($l[1] // '', qr/^destination /, '... and its destination run, once');
is(scalar(grep { /^destination / } lines('victim')), 0,
   'the victim never got anything');

# a destination nobody has yet: its outcome is not stored for whoever
# takes the name first (another tenant could)
like(async('early'), qr/^Status: 202/m, 'a destination of no function: '
     . 'accepted');
ok(FaasTest::wait_for(sub { $t->runner_log
                            =~ /destination "later" is no function loaded, its outcome not sent/ },
                      15), '... its outcome not sent, and said');
fn('later', "tenant = other\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "later" loaded/ },
                      10), 'another tenant takes the name');
sleep 1;
is(scalar(lines('later')), 0, '... and gets nothing of it');
like(async('early'), qr/^Status: 202/m, '... nor takes the function that '
     . 'named it down');
ok(FaasTest::wait_for(sub { lines('early') >= 2 }, 15), '... which runs on');
sleep 0.5;
is(scalar(lines('later')), 0, '... its outcome not sent to the other tenant');

# (each slow one runs 6 s: the reload that gives its name to another
# tenant must come while it runs, on a slow machine too)

# a destination invocation stored while the name was its tenant's, run
# again (its first attempt failed) after another tenant took the name:
# not run for the other (the body is the source's response)
fn('src2', "tenant = shop\non_success = dest2\n");
$t->function('dest2', "exec = ./run.sh\nmode = cgi\ntenant = shop\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\nsleep 6\nexit 1\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "dest2" loaded/ },
                      10), 'a destination of the tenant "shop"');
like(async('src2'), qr/^Status: 202/m, '... its source invoked');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /invocation \w+ of "dest2": attempt 1/ },
                      15), '... the destination\'s first attempt runs');
ok(FaasTest::wait_for(sub { sleeping('dest2') }, 15),
   '... its process is there (the swap comes while it runs)');
$t->remove_function('dest2');
fn('dest2', "tenant = other\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "dest2" is tenant "other"'s now \(was "shop"'s\): a new function/ },
                      10), 'another tenant\'s function has the name now');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /invocation \w+ of "dest2" \(destination\) was made for tenant "shop", the function is now tenant "other"'s: not run/ },
                      15), '... the retry is not run, and said');
is(scalar(lines('dest2')), 0, '... the other tenant got nothing of it');

# an invocation that runs while its function becomes another tenant's
# (the folder's function.conf changes tenant, and names a destination of
# the new tenant): the run's response goes to no destination of theirs
$t->function('swap', "exec = ./run.sh\nmode = cgi\ntenant = shop\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\nsleep 6\n"
                       . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                       . "secret of shop\\n'\n");
fn('odest', "tenant = other\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "swap" loaded/ }, 10),
   'a slow function of the tenant "shop"');
like(async('swap'), qr/^Status: 202/m, '... invoked');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /invocation \w+ of "swap": attempt 1/ },
                      15), '... it runs');
ok(FaasTest::wait_for(sub { sleeping('swap') }, 15),
   '... its process is there (the swap comes while it runs)');
FaasTest::write_file("$dir{odest}/../swap/function.conf",
                     "exec = ./run.sh\nmode = cgi\ntenant = other\n"
                     . "on_success = odest\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "swap" is tenant "other"'s now \(was "shop"'s\): a new function/ }, 10),
   'meanwhile the function is the tenant "other"\'s, with a destination');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /invocation \w+ of "swap": the function is another tenant's now, its outcome sent nowhere/ },
                      15), 'the run ends: its outcome sent nowhere, said');
sleep 1;
is(scalar(lines('odest')), 0, '... the other tenant got nothing of it');

# a client's own invocation the same, even when the client names a
# tenant itself (FAAS_TENANT: dropped, the function's is stored)
$t->function('cl', "exec = ./run.sh\nmode = cgi\ntenant = shop\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\nsleep 6\nexit 1\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "cl" loaded/ }, 10),
   'a function of the tenant "shop"');
like($t->fcgi_call('cl', params => [FAAS_INVOCATION => 'async',
                                    REQUEST_METHOD => 'POST',
                                    FAAS_TENANT => 'other'],
                   stdin => 'a client says tenant other')->{stdout},
     qr/^Status: 202/m, '... a client invokes it, naming another tenant');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /invocation \w+ of "cl": attempt 1/ },
                      15), '... its first attempt runs');
ok(FaasTest::wait_for(sub { sleeping('cl') }, 15),
   '... its process is there (the swap comes while it runs)');
$t->remove_function('cl');
fn('cl', "tenant = other\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "cl" is tenant "other"'s now \(was "shop"'s\): a new function/ }, 10),
   'the tenant "other" has the name now');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /invocation \w+ of "cl" \(async\) was made for tenant "shop", the function is now tenant "other"'s: not run/ },
                      15), '... the retry is not run, and said');
is(scalar(lines('cl')), 0, '... the other tenant got nothing of it');

$t->done;

done_testing;
