package FaasBrowser;

# Headless Chromium for the tests (Debian's chromium): the DOM after the
# page's scripts ran, what its console said, a screenshot and its
# pixels. Each run is bounded; on timeout its whole process group (the
# browser and its helpers) is killed, and only that.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use List::Util ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX qw(WNOHANG setpgid);
use Time::HiRes qw(sleep time);

# the process groups of browsers under way: a test file stopped from
# outside or past its time limit (FaasTest's handlers, which end with
# _exit) stops them too
my %groups;

for my $sig (qw(ALRM INT TERM HUP)) {
    my $prev = $SIG{$sig};
    $SIG{$sig} = sub {
        kill 'KILL', -$_ for keys %groups;
        return $prev->(@_) if ref $prev eq 'CODE';
        $SIG{$sig} = 'DEFAULT';
        kill $sig, $$;
    };
}

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
    $groups{$pid} = 1;

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
    delete $groups{$pid};
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

# a screenshot after $o{seconds} of real time (the page polls on its
# own meanwhile), after the JavaScript expressions of $o{eval} (their
# values in {values}): chromium with a debugging port, and a minimal
# client of its DevTools protocol (one websocket, a few commands)
sub live_screenshot {
    my ($url, $file, %o) = @_;
    my $bin = binary() or return undef;
    my $profile = tempdir('faas-chromium-XXXXXX', TMPDIR => 1,
                          CLEANUP => 1);
    my $port = FaasTest::free_port();
    my ($w, $h) = split /,/, $o{size} // '1280,900';

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$profile.err";
        { exec $bin, qw(--headless --no-sandbox --disable-gpu --disable-quic
                        --no-first-run --disable-background-networking
                        --disable-component-update --disable-sync
                        --hide-scrollbars --enable-logging=stderr --v=0),
                     "--window-size=$w,$h", "--user-data-dir=$profile",
                     "--remote-debugging-port=$port", $url; }
        POSIX::_exit(127);
    }
    setpgid($pid, $pid);
    $groups{$pid} = 1;

    sleep($o{seconds} // 10);

    # the harness' alarm (a test file's time limit) is put back after
    my $left = alarm 0;
    my $since = time;
    my @values;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 20;
        my $list = http_get_local($port, '/json/list');
        my ($ws) = $list =~ m{"webSocketDebuggerUrl":\s*"ws://[^/]+
                              (/devtools/page/[^"]+)"}x
            or die "no page\n";
        my $s = ws_connect($port, $ws);
        ws_call($s, 1, 'Emulation.setDeviceMetricsOverride',
                { width => $w + 0, height => $h + 0, deviceScaleFactor => 1,
                  mobile => JSON::PP::false() });
        my $id = 2;
        for my $js (@{ $o{eval} // [] }) {
            # an expression's value, after what it started settled
            my $r = ws_call($s, ++$id, 'Runtime.evaluate',
                            { expression => $js, returnByValue =>
                              JSON::PP::true(), awaitPromise =>
                              JSON::PP::true() });
            push @values, $r->{result}{result}{value};
        }
        my $r = ws_call($s, ++$id, 'Page.captureScreenshot',
                        { format => 'png' });
        open my $fh, '>', $file or die "$file: $!\n";
        binmode $fh;
        print $fh MIME::Base64::decode_base64($r->{result}{data});
        close $fh;
        alarm 0;
        1;
    };
    alarm 0;
    my $err = $@;
    alarm(List::Util::max(1, int($left - (time - $since)))) if $left;

    kill 'KILL', -$pid;
    delete $groups{$pid};
    waitpid($pid, 0);
    my %r = (ok => $ok, error => $err, err => slurp("$profile.err"),
             values => \@values);
    unlink "$profile.err";
    return \%r;
}

sub http_get_local {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!\n";
    binmode $s;
    print $s "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
             . "Connection: close\r\n\r\n";
    my $r = '';
    while (1) {
        my $n = sysread($s, $r, 65536, length $r);
        last unless $n;
        if ($r =~ /\r\n\r\n/ && $r =~ /Content-Length:\s*(\d+)/i) {
            my $want = $1;
            last if length($r) - index($r, "\r\n\r\n") - 4 >= $want;
        }
    }
    return $r;
}

sub ws_connect {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!\n";
    binmode $s;
    print $s "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
             . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             . "Sec-WebSocket-Version: 13\r\n\r\n";
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($s, my $c, 1) or die "handshake\n";
        $head .= $c;
    }
    $head =~ m{^HTTP/1.1 101} or die "no upgrade\n";
    return $s;
}

sub ws_read {
    my ($s, $n) = @_;
    my $buf = '';
    while (length $buf < $n) {
        my $got = sysread($s, $buf, $n - length $buf, length $buf);
        die "websocket closed\n" unless $got;
    }
    return $buf;
}

# sends a command, returns its answer (events before it are skipped)
sub ws_call {
    my ($s, $id, $method, $params) = @_;
    my $msg = JSON::PP::encode_json({ id => $id, method => $method,
                                      params => $params });
    my $n = length $msg;
    my $mask = pack 'N', int rand 2**32;
    my $frame = "\x81" . ($n < 126 ? chr(0x80 | $n)
                                   : chr(0x80 | 126) . pack('n', $n));
    my $masked = $msg ^ substr($mask x (int($n / 4) + 1), 0, $n);
    syswrite($s, $frame . $mask . $masked);

    while (1) {
        my ($b0, $b1) = unpack 'CC', ws_read($s, 2);
        my $len = $b1 & 0x7f;
        $len = unpack 'n', ws_read($s, 2) if $len == 126;
        $len = unpack 'Q>', ws_read($s, 8) if $len == 127;
        my $data = ws_read($s, $len);
        next unless ($b0 & 0x0f) == 1;
        my $r = JSON::PP::decode_json($data);
        return $r if ($r->{id} // -1) == $id;
    }
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
