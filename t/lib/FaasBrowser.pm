package FaasBrowser;

# Headless Chromium for the tests (Debian's chromium): the DOM after the
# page's scripts ran, what its console said, a screenshot and its
# pixels. Each run is bounded; on timeout its whole process group (the
# browser and its helpers) is killed, and only that.

use strict;
use warnings;

use File::Temp qw(tempdir);
use POSIX qw(WNOHANG setpgid);
use Time::HiRes qw(sleep time);

sub binary {
    for my $b (qw(chromium chromium-browser)) {
        for my $d (split /:/, $ENV{PATH}) {
            return "$d/$b" if -x "$d/$b";
        }
    }
    return undef;
}

# runs chromium on $url with @args; returns { out, err, rc }
sub run {
    my ($url, %o) = @_;
    my $bin = binary() or return undef;
    my $profile = tempdir('faas-chromium-XXXXXX', TMPDIR => 1,
                          CLEANUP => 1);
    my $out = "$profile.out";
    my $err = "$profile.err";

    my @cmd = ($bin, qw(--headless --no-sandbox --disable-gpu --disable-quic
                        --no-first-run --disable-background-networking
                        --disable-component-update --disable-sync
                        --enable-logging=stderr --v=0 --hide-scrollbars),
               "--user-data-dir=$profile",
               "--virtual-time-budget=" . ($o{budget} // 3000),
               @{ $o{args} // [] }, $url);

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        { exec @cmd; }
        POSIX::_exit(127);
    }
    setpgid($pid, $pid);

    my $end = time + ($o{timeout} // 60);
    my $rc;
    while (time < $end) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $rc = $?;
            last;
        }
        sleep 0.1;
    }
    # the browser's helpers too, whether it ended or not
    kill 'KILL', -$pid;
    if (!defined $rc) {
        waitpid($pid, 0);
        $rc = -1;
    }

    my %r = (rc => $rc, out => slurp($out), err => slurp($err));
    unlink $out, $err;
    return \%r;
}

sub slurp {
    open my $fh, '<', $_[0] or return '';
    local $/;
    return scalar(<$fh>) // '';
}

# the DOM after scripts ran for $budget ms of virtual time
sub dom {
    my ($url, %o) = @_;
    return run($url, %o, args => ['--dump-dom']);
}

# what the page wrote to its console (messages, uncaught errors, failed
# loads): none is expected from ours
sub console {
    my ($r) = @_;
    return grep { /:CONSOLE/ } split /\n/, $r->{err};
}

sub screenshot {
    my ($url, $file, %o) = @_;
    return run($url, %o, args => ["--screenshot=$file",
                                  '--window-size=' . ($o{size}
                                                      // '1280,900')]);
}

# the pixels of a PNG for a callback: ($r, $g, $b) -> 1 to count;
# counted within [x0, y0, x1, y1) when a box is given
sub count_pixels {
    my ($file, $want, $box) = @_;
    require Image::PNG::Libpng;
    my $png = Image::PNG::Libpng::read_png_file($file,
        transforms => Image::PNG::Libpng::PNG_TRANSFORM_STRIP_ALPHA()
                      | Image::PNG::Libpng::PNG_TRANSFORM_EXPAND());
    my $rows = $png->get_rows;
    my $w = $png->get_IHDR->{width};
    my ($x0, $y0, $x1, $y1) = @{ $box // [0, 0, $w, scalar @$rows] };
    my $n = 0;
    for my $y ($y0 .. $y1 - 1) {
        last if $y > $#$rows;
        my @p = unpack 'C*', $rows->[$y];
        for my $x ($x0 .. $x1 - 1) {
            last if $x >= $w;
            $n++ if $want->(@p[3 * $x .. 3 * $x + 2]);
        }
    }
    return $n;
}

1;
