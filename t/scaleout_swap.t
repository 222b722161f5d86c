#!/usr/bin/perl

# How function folders reach a runner host (docs/scale-out.md): each
# release copied into a directory of its own, a symlink switched to it
# at once (rename over the old link), then SIGHUP; the old release is
# deleted a second after (not at once: a CGI process that began just
# before the SIGHUP may still be starting, and its shell opens run.sh by
# its path; deleted under it, that request is a 502). Under load through
# it all: every request answered 200, by the old release until the
# reload and by the new one after it, never a mix within a response; a
# request in flight on the old release finishes with the old bytes even
# once its folder is deleted.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path remove_tree);
use IO::Select;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $p = $t->prefix;
my $fn = $t->testfn;

# outside /tmp's view of an isolated function does not matter here: the
# runner reads the folders, the functions only their own
sub release {
    my ($v) = @_;
    my $dir = "$p/srv/releases/$v/functions";
    for my $name ('ver', 'slow') {
        make_path("$dir/$name");
        chmod 0755, "$p/srv", "$p/srv/releases", "$p/srv/releases/$v",
              $dir, "$dir/$name";
        FaasTest::write_file("$dir/$name/function.conf",
                             "exec = ./run.sh\nmode = cgi\n");
        FaasTest::write_file("$dir/$name/run.sh",
            "#!/bin/sh\n"
            . ($name eq 'slow' ? "sleep 3\n" : '')
            . "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
            . "echo 'release $v begins'\necho 'release $v ends'\n");
        chmod 0755, "$dir/$name/run.sh";
    }
    # and a FastCGI function, its workers kept between requests
    make_path("$dir/fver");
    chmod 0755, "$dir/fver";
    FaasTest::write_file("$dir/fver/function.conf",
                         "exec = $fn\nenv.RELEASE = $v\n");
}

release('v1');
symlink('releases/v1', "$p/srv/current") or die "symlink: $!";

$t->start_runner(conf => "functions = $p/srv/current/functions\n");
$t->start_nginx($t->faas_location);

like($t->http_get('/fn/ver')->{body}, qr/release v1 begins/,
     'v1 is served through the symlink');
like($t->http_get('/fn/fver?op=env')->{body}, qr/RELEASE=v1/,
     'the FastCGI function too');

# load: what each answer said, in order
pipe(my $rd, my $wr) or die;
my $lpid = fork // die;
if ($lpid == 0) {
    close $rd;
    my $end = time + 5;
    while (time < $end) {
        for my $uri ('/fn/ver', '/fn/fver?op=env') {
            my $r = eval { $t->http_get($uri, timeout => 20) };
            my $what = !$r ? 'none'
                     : $r->{status} != 200 ? "status $r->{status}"
                     : $r->{body} =~ /^release (v\d) begins\nrelease \1 ends\n$/
                       ? $1
                     : $r->{body} =~ /RELEASE=(v\d)/ ? "f$1"
                     : "garbage";
            printf $wr "%.3f %s\n", time, $what;
        }
    }
    close $wr;
    POSIX::_exit(0);
}
close $wr;

sleep 0.8;
my $slow = $t->http_start('/fn/slow');
sleep 0.3;

# the release: copied beside, the link switched in one rename, SIGHUP
release('v2');
symlink('releases/v2', "$p/srv/current.new") or die;
rename("$p/srv/current.new", "$p/srv/current") or die "rename: $!";
my $swapped = time;
sleep 0.5;
my $mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /function "ver" changed/ }, 10),
   'SIGHUP: the function is seen changed');
my $reloaded = time;
sleep 1;
ok(!IO::Select->new($slow)->can_read(0),
   'the request on v1 still runs, nothing answered yet');
remove_tree("$p/srv/releases/v1");
ok(!-e "$p/srv/releases/v1", 'the old release deleted');

my $sr = FaasTest::http_finish($slow, timeout => 20);
is($sr && $sr->{status}, 200, 'a request in flight on v1 finishes');
is($sr && $sr->{body}, "release v1 begins\nrelease v1 ends\n",
   '... with v1\'s whole answer, its folder deleted meanwhile');

my @seen;
while (my $l = <$rd>) {
    chomp $l;
    push @seen, [split / /, $l, 2];
}
waitpid($lpid, 0);

my @bad = grep { $_->[1] !~ /^f?v[12]$/ } @seen;
is(scalar @bad, 0, sprintf('%d answers under the release, each 200 from '
                           . 'one release', scalar @seen))
    or diag(join ', ', map { $_->[1] } @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
my @late_v1 = grep { $_->[0] > $reloaded + 1 && $_->[1] =~ /v1/ } @seen;
is(scalar @late_v1, 0, 'no v1 a second after the reload');
ok((grep { $_->[1] eq 'v1' } @seen) && (grep { $_->[1] eq 'v2' } @seen),
   'both releases answered, one after the other');
ok((grep { $_->[1] eq 'fv2' } @seen), 'the FastCGI function moved to v2');

like($t->http_get('/fn/ver')->{body}, qr/release v2 begins/, 'v2 now');
like($t->http_get('/fn/fver?op=env')->{body}, qr/RELEASE=v2/,
     'the FastCGI function: v2');

$t->done;

done_testing;
