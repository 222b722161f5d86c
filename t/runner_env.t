#!/usr/bin/perl

# The worker's environment is built from scratch: nothing of the
# runner's, only PATH, the php-cgi convention and env.*; the worker runs
# as a dynamic user when the runner is root.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('plain', "exec = $fn\n");
$t->function('withenv', "exec = $fn\nenv.GREETING = hello world\n"
                        . "env.PATH = /opt/x:/bin\n"
                        . "# a '#' in an env.* value is its own\n"
                        . "env.URL = http://x/#frag\n  env.PW = a#b # c\n"
                        . "max_requests = 7 # a comment\n");
$t->function('asroot', "exec = $fn\nuser = root\n");
$t->start_runner(conf => "env.FROM_DEFAULTS = yes\n",
                 env => { RUNNER_SECRET => 'leak', LD_PRELOAD => '' });
$t->start_nginx;

sub envof {
    my ($r) = @_;
    my %e = map { /^ENV ([^=]+)=(.*)$/ ? ($1, $2) : () }
            split /\n/, $r->{body};
    my ($uid) = $r->{body} =~ /^UID (\d+)$/m;
    my %p = map { /^PARAM ([^=]+)=(.*)$/ ? ($1, $2) : () }
            split /\n/, $r->{body};
    return (\%e, $uid, \%p);
}

my ($e, $uid, $p) = envof($t->http_get('/fn/plain?op=env'));
is_deeply([sort keys %$e], [qw(FROM_DEFAULTS PATH PHP_FCGI_MAX_REQUESTS)],
          'only PATH, PHP_FCGI_MAX_REQUESTS and the env.* of the defaults');
is($e->{PATH}, '/usr/local/bin:/usr/bin:/bin', 'the default PATH');
is($e->{PHP_FCGI_MAX_REQUESTS}, 10000, 'php-cgi retires with max_requests');
is($p->{FAAS_FUNCTION}, 'plain', 'the request parameters arrive');
is($p->{REQUEST_URI}, '/fn/plain?op=env', 'REQUEST_URI');

($e) = envof($t->http_get('/fn/withenv?op=env'));
is($e->{GREETING}, 'hello world', 'env.GREETING with a space');
is($e->{PATH}, '/opt/x:/bin', 'env.PATH replaces the default');
is($e->{FROM_DEFAULTS}, 'yes', 'defaults still apply');
is($e->{URL}, 'http://x/#frag', 'an env.* value with a "#": all of it');
is($e->{PW}, 'a#b # c', '... the rest of its line');
is($e->{PHP_FCGI_MAX_REQUESTS}, 7, 'another key: "#" starts a comment');
like($t->runner_log, qr{withenv/function\.conf:\d+: "env\.PW" is all the rest of the line, "#" too: a comment goes on a line of its own},
     'an env.* value with " #" in it: a warning');
unlike($t->runner_log, qr{"env\.URL" is all the rest}, '... not for a "#" '
       . 'inside a word');
ok(!exists $e->{RUNNER_SECRET}, 'no runner variable');

SKIP: {
    skip 'the runner is not root', 2 unless $> == 0;
    ok($uid >= 61184 && $uid <= 65519 && !defined getpwuid($uid),
       "a root runner runs a root-owned function without user as the "
       . "dynamic user of its tenant ($uid)");
    (undef, $uid) = envof($t->http_get('/fn/asroot?op=env'));
    is($uid, 0, 'unless the function says user = root');
}

$t->done;
done_testing;
