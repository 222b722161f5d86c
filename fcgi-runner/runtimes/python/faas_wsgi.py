# Copyright (C) ngx_faas developers
#
# The Python runtime of ngx_faas (runtime = python): a WSGI application
# (PEP 3333) served over FastCGI. The runner starts it as
#
#     python3 -I -c SOURCE MODULE:CALLABLE [PATH...]
#
# in the function's folder, as the function's user, with one of these
# on descriptor 0:
#
# - a listening stream socket (FCGI_LISTENSOCK_FILENO): a worker of its
#   own. It imports the application and serves one request at a time.
#
# - a SOCK_SEQPACKET socket to the runner: the function's prototype (its
#   zygote). It imports the application once and says so ([0, 0]; or
#   [-1, code]). The runner then sends a message for each worker, in
#   the format of faas-init's prototype (fcgi-runner/init/faas-proto.c):
#   "N", a path, N arguments and the environment, each NUL-ended, with
#   the worker's 0, 1, 2 and its start report pipe as SCM_RIGHTS. The
#   message is read by a spare: a fork of the zygote made ahead of
#   time, which answers [its pid, 0] and becomes the worker (the runner
#   reads the pid it knows from the message's credentials), or
#   [-1, errno]. Every fork is made with CLONE_PARENT: the runner's
#   child, as every worker is, which it reaps, meters and kills by its
#   own rights. Nothing the zygote opened is left to a worker but what
#   the runner sent.

import ctypes
import errno
import gc
import io
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback


FCGI_BEGIN_REQUEST = 1
FCGI_ABORT_REQUEST = 2
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_GET_VALUES = 9
FCGI_GET_VALUES_RESULT = 10
FCGI_UNKNOWN_TYPE = 11
FCGI_RESPONDER = 1
FCGI_KEEP_CONN = 1
FCGI_CANT_MPX_CONN = 1
FCGI_UNKNOWN_ROLE = 3

# a prototype's first word when it cannot be one (as the runner reads it)
NOT_IMPORTED = errno.ENOEXEC
THREADED = errno.EBUSY

CLONE_PARENT = 0x00008000
SYS_CLONE = {'x86_64': 56, 'aarch64': 220}.get(os.uname().machine)
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4

RECORD = struct.Struct('>BBHHBx')
# a close() of the app's slower than this: its response ends first
CLOSE_SLOW = 0.01
# a body the app left unread that a stream's look for its client's
# going may read ahead (and keep)
STDIN_AHEAD = 262144

# the GIL held across its calls, as os.fork holds it across fork()
LIBC = ctypes.PyDLL(None, use_errno=True)
OUT_MAX = 65528           # a record's content, a multiple of 8
TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789"
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# PEP 3333's hop-by-hop headers, which an application may not send:
# dropped, as gunicorn drops them (the connection is nginx's to frame)
# a header value's control characters (PEP 3333), HTAB allowed (RFC 9110)
CONTROL = re.compile('[\x00-\x08\x0a-\x1f\x7f]')
HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-authenticate',
                        'proxy-authorization', 'te', 'trailers',
                        'transfer-encoding', 'upgrade'))


def main():
    private, spec, paths = sys.argv[1], sys.argv[2], sys.argv[3:]

    # -p: not dumpable, nor the workers forked from us: another worker
    # of the function (the same user) can neither read nor write our
    # memory through /proc (a visitor's request, a zygote poisoned for
    # every later worker); a runner that is not root reads our /proc
    # as our user, and asks for no -p
    if private == '-p' and LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'prctl(PR_SET_DUMPABLE)')

    listen = socket.socket(fileno=0)

    if listen.type == socket.SOCK_SEQPACKET:
        # 3 is a worker's report pipe, then its connection: never one
        # of what the import opens, which stays with the app's objects
        for fd in (3, 4):
            try:
                os.fstat(fd)
            except OSError:
                null = os.open('/dev/null', os.O_RDONLY | os.O_CLOEXEC)
                if null != fd:
                    os.dup2(null, fd, inheritable=False)
                    os.close(null)
        prototype(listen, spec, paths)
    else:
        serve(listen, load(spec, paths))


def load(spec, paths):
    """MODULE:CALLABLE from the function's folder (and python.path)."""
    here = os.getcwd()
    sys.path[0:0] = [here] + [os.path.join(here, p) for p in paths]
    module, _, name = spec.partition(':')
    obj = __import__(module, fromlist=['_'])
    name = name or 'application'

    # the folder's own, not the host's (os:getcwd) nor one the driver
    # had imported already under that name
    where = os.path.abspath(getattr(obj, '__file__', None) or '/')
    if not any(where.startswith(os.path.abspath(d) + os.sep)
               for d in sys.path[:1 + len(paths)]):
        raise ImportError('module %r is not the function folder\'s (%s)'
                          % (module, where))

    for part in name.split('.'):
        obj = getattr(obj, part)

    if not callable(obj):
        raise TypeError('%s is not callable' % spec)

    return obj


# the prototype ----------------------------------------------------------

def prototype(sock, spec, paths):
    try:
        app = load(spec, paths)
    except BaseException:
        traceback.print_exc()
        reply(sock, -1, NOT_IMPORTED)
        os._exit(1)

    if threaded():
        # a fork copies one thread: what the others held stays held
        reply(sock, -1, THREADED)
        os._exit(1)

    if SYS_CLONE is None:
        reply(sock, -1, errno.ENOSYS)
        os._exit(1)

    # the runner as a worker sees it: 0 from inside a pid namespace
    parent = os.getppid()

    # its folder held, not stood in: only workers stand in it
    here = os.open('.', os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    os.chdir('/')

    # what the import made is never collected again: a worker's
    # collections do not write (and so copy) the prototype's pages
    gc.collect()
    gc.freeze()

    # A spare, forked ahead: it reads the runner's next message, says
    # so, and becomes the worker; meanwhile we fork the next spare. A
    # fork of a Python process costs milliseconds (its page tables,
    # the at-fork hooks, the pages they write): never on a request's
    # path. We never read the socket. Ready is said once the first
    # spare is there: the runner, looking at our session then, takes
    # one more child of its own there for one the import made.
    ready = False

    while True:
        if threaded():
            os._exit(1)

        r, w = os.pipe()
        pid = clone_parent()

        if pid == 0:
            os.close(r)
            spare(sock, w, app, parent, here)

        os.close(w)

        if not ready:
            reply(sock, 0, 0)
            ready = True

        if pid == -1:
            time.sleep(0.1)
            continue

        with os.fdopen(r, 'rb') as f:
            said = f.read(1)

        if said == b'x':
            os._exit(0)           # the runner is done with us

        if said != b't':
            time.sleep(0.1)       # it died before it took a message


def clone_parent():
    """fork(), the child the runner's (CLONE_PARENT), as os.fork does
    it: the GIL held across (ctypes.pythonapi), Python's at-fork work."""
    api = ctypes.pythonapi
    sys.stdout.flush()
    sys.stderr.flush()

    api.PyOS_BeforeFork()
    pid = LIBC.syscall(ctypes.c_long(SYS_CLONE),
                      ctypes.c_ulong(CLONE_PARENT | signal.SIGCHLD),
                      ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0), ctypes.c_ulong(0))

    if pid == 0:
        api.PyOS_AfterFork_Child()
    else:
        api.PyOS_AfterFork_Parent()

    return pid


def reply(sock, pid, err):
    sock.send(struct.pack('=ii', pid, err))


def threaded():
    return (threading.active_count() > 1
            or len(os.listdir('/proc/self/task')) > 1)


def spare(sock, took, app, parent, here):
    """Waits, forked, for the runner's next message; then the worker."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)

        # dies with the runner, its parent; which must still be there
        if (libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0
                or os.getppid() != parent):
            os._exit(1)

        while True:
            try:
                msg, fds, flags, _ = socket.recv_fds(sock, 1 << 20, 4)
                break
            except InterruptedError:
                continue

        if not msg:
            os.write(took, b'x')
            os._exit(0)

        os.write(took, b't')
        os.close(took)

        parts = msg.split(b'\0')

        if (len(fds) != 4 or not parts[0].isdigit()
                or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC)
                or len(parts) < int(parts[0]) + 3):
            reply(sock, -1, errno.EPROTO)
            os._exit(1)

        # out of the zygote's group before the runner knows us: a
        # zygote retired goes with its group (its spare), never with
        # the worker it has just forked for a request
        try:
            os.setsid()
        except OSError as e:
            reply(sock, -1, e.errno)
            os._exit(1)

        # the worker answers: the runner takes its pid from the kernel
        # (SO_PASSCRED), ours is of the function's namespace
        reply(sock, os.getpid(), 0)
        sock.detach()
        worker(fds, parts[int(parts[0]) + 2:-1], app, here)

    except BaseException:
        os._exit(1)


def worker(fds, env, app, here):
    """What the runner sent, then requests (in a session of our own)."""
    try:
        os.fchdir(here)

        for i, fd in enumerate(fds):
            os.dup2(fd, i, inheritable=(i < 3))

        forget_descriptors()
        os.environ.clear()

        for kv in env:
            k, _, v = kv.partition(b'=')
            os.environb[k] = v

        # started: the runner sees its report pipe close
        os.close(3)
        serve(socket.socket(fileno=0), app)

    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)

    os._exit(0)


def forget_descriptors():
    """What the zygote opened (at import: a log file, a socket) is not
    the worker's: each such descriptor becomes /dev/null, never closed,
    since an object of the app may still write to its number, which
    the worker's next connection would take."""
    null = os.open('/dev/null', os.O_RDWR | os.O_CLOEXEC)

    try:
        fds = [int(n) for n in os.listdir('/proc/self/fd')]
    except OSError:
        os.closerange(4, os.sysconf('SC_OPEN_MAX'))
        return

    for fd in fds:
        if fd > 3 and fd != null:
            try:
                os.dup2(null, fd, inheritable=False)
            except OSError:
                pass              # the listing's own, closed since

    os.close(null)


# FastCGI ----------------------------------------------------------------

def serve(listen, app):
    while True:
        try:
            conn, _ = listen.accept()
        except InterruptedError:
            continue

        with conn:
            try:
                Connection(conn, app).run()
            except (OSError, ValueError, struct.error):
                pass              # the runner's connection broke


def record(kind, rid, content=b''):
    return RECORD.pack(1, kind, rid, len(content), 0) + content


def pairs(data):
    """FastCGI name-value pairs, as bytes."""
    out, i, n = {}, 0, len(data)

    while i < n:
        lens = []

        for _ in range(2):
            if i >= n:
                return out
            b = data[i]
            if b & 0x80:
                if i + 4 > n:
                    return out
                lens.append(struct.unpack('>I', data[i:i + 4])[0] & 0x7fffffff)
                i += 4
            else:
                lens.append(b)
                i += 1

        name = bytes(data[i:i + lens[0]])
        value = bytes(data[i + lens[0]:i + lens[0] + lens[1]])
        i += lens[0] + lens[1]
        out[name] = value

    return out


def pair(name, value):
    return bytes([len(name)]) + bytes([len(value)]) + name + value


class Connection:

    def __init__(self, conn, app):
        self.conn = conn
        self.rf = conn.makefile('rb', buffering=65536)
        self.app = app
        self.rid = 0
        self.keep = False
        self.params = bytearray()
        self.stdin = []           # STDIN before the end of PARAMS
        self.stdin_done = False
        self.aborted = False

    def read(self):
        """The next record of the request's, or None at the connection's
        end; management records are answered on the way."""
        while True:
            h = self.rf.read(8)
            if len(h) < 8:
                return None

            version, kind, rid, clen, plen = RECORD.unpack(h)
            content = self.rf.read(clen + plen)
            if version != 1 or len(content) < clen + plen:
                return None

            content = content[:clen]

            if kind == FCGI_GET_VALUES:
                known = {b'FCGI_MAX_CONNS': b'1', b'FCGI_MAX_REQS': b'1',
                         b'FCGI_MPXS_CONNS': b'0'}
                body = b''.join(pair(k, known[k]) for k in pairs(content)
                                if k in known)
                self.conn.sendall(record(FCGI_GET_VALUES_RESULT, 0, body))
            elif kind == FCGI_BEGIN_REQUEST and self.rid and rid != self.rid:
                self.conn.sendall(record(FCGI_END_REQUEST, rid,
                                  struct.pack('>IB3x', 0,
                                              FCGI_CANT_MPX_CONN)))
            elif kind > FCGI_UNKNOWN_TYPE or kind == 0:
                self.conn.sendall(record(FCGI_UNKNOWN_TYPE, 0,
                                         bytes([kind]) + b'\0' * 7))
            elif kind == FCGI_BEGIN_REQUEST and len(content) < 8:
                return None
            else:
                return kind, rid, content

    def run(self):
        while True:
            rec = self.read()
            if rec is None:
                return

            kind, rid, content = rec

            if kind == FCGI_BEGIN_REQUEST:
                role, flags = struct.unpack('>HB5x', content[:8])
                if role != FCGI_RESPONDER:
                    self.conn.sendall(record(FCGI_END_REQUEST, rid,
                                      struct.pack('>IB3x', 0,
                                                  FCGI_UNKNOWN_ROLE)))
                    continue
                self.rid, self.keep = rid, bool(flags & FCGI_KEEP_CONN)
                self.params = bytearray()
                self.stdin, self.stdin_done, self.aborted = [], False, False
                continue

            if rid != self.rid or rid == 0:
                continue

            if kind == FCGI_PARAMS and content:
                self.params += content
            elif kind == FCGI_PARAMS:
                self.respond(pairs(self.params))
                self.rid = 0
                if not self.keep:
                    return
            elif kind == FCGI_STDIN:
                self.take(rec)
            elif kind == FCGI_ABORT_REQUEST:
                self.conn.sendall(record(FCGI_END_REQUEST, rid,
                                         struct.pack('>IB3x', 1, 0)))
                self.rid = 0

    def next_stdin(self):
        """The next STDIN bytes of the request; b'' at its end."""
        while not self.stdin and not self.stdin_done and not self.aborted:
            self.take(self.read())

        return self.stdin.pop(0) if self.stdin else b''

    def take(self, rec):
        """A record of the request's: STDIN kept for the app; the end
        of the connection or ABORT_REQUEST (the runner's, after all of
        STDIN: its client left) end it."""
        if rec is None:
            self.aborted = True
            return
        kind, rid, content = rec
        if rid != self.rid:
            return
        if kind == FCGI_STDIN:
            if content:
                self.stdin.append(content)
            else:
                self.stdin_done = True
        elif kind == FCGI_ABORT_REQUEST:
            self.aborted = True

    def client_left(self):
        """Whether the request's client left, looked for without
        waiting: STDIN on the way is kept (up to STDIN_AHEAD; past it
        the app's body is left where it is and nothing is known)."""
        while (not self.aborted
               and sum(map(len, self.stdin)) < STDIN_AHEAD):
            self.conn.setblocking(False)
            try:
                # none read but what is there (b'' for none)
                ready = self.rf.peek(1)
            finally:
                self.conn.setblocking(True)
            if not ready:
                break
            self.take(self.read())

        return self.aborted

    def environ(self, params):
        env = {k.decode('latin-1'): v.decode('latin-1')
               for k, v in params.items()}

        for k, v in (('SCRIPT_NAME', ''), ('PATH_INFO', ''),
                     ('QUERY_STRING', ''), ('SERVER_PORT', '80'),
                     ('SERVER_PROTOCOL', 'HTTP/1.0'),
                     ('REQUEST_METHOD', 'GET')):
            env.setdefault(k, v)

        # never empty (PEP 3333): nginx's $server_name is, in a server
        # without server_name; its address then, as gunicorn gives its
        # bound one
        if not env.get('SERVER_NAME'):
            env['SERVER_NAME'] = env.get('SERVER_ADDR') or 'localhost'

        https = (env.get('HTTPS', '').lower() in ('on', '1')
                 or env.get('REQUEST_SCHEME') == 'https')

        env['wsgi.version'] = (1, 0)
        env['wsgi.url_scheme'] = 'https' if https else 'http'
        # CONTENT_LENGTH bytes of the body, as gunicorn reads it; without
        # one (a chunked body through fastcgi_pass with
        # fastcgi_request_buffering off, where nginx knows no length)
        # the body to its end, as gunicorn reads a chunked one, and says
        # so (wsgi.input_terminated: Werkzeug reads it then)
        length = env.get('CONTENT_LENGTH', '')
        length = (int(length) if length.isascii() and length.isdigit()
                  else float('inf') if length == '' else 0)
        env['wsgi.input'] = io.BufferedReader(Input(self, length), 65536)
        env['wsgi.input_terminated'] = True
        env['wsgi.errors'] = sys.stderr
        env['wsgi.multithread'] = False
        env['wsgi.multiprocess'] = True
        env['wsgi.run_once'] = False

        return env

    def respond(self, params):
        env = self.environ(params)
        # the client's, whatever the app's middleware makes of it
        method = env['REQUEST_METHOD']
        out = Output(self.conn, self.rid)
        state = {'status': None, 'headers': None, 'sent': False,
                 'body': 0, 'length': float('inf'), 'done': False,
                 'bodiless': False}

        def write(data):
            if state['status'] is None:
                raise AssertionError('write() before start_response()')
            if not isinstance(data, bytes):
                raise TypeError('the body must be bytes, not %s'
                                % type(data).__name__)
            # not past its Content-Length (gunicorn's cut too), by the
            # write() callable as by the iterable
            if len(data) > state['length'] - state['body']:
                data = data[:int(state['length'] - state['body'])]
            if not state['sent']:
                state['sent'] = True
                out.write(head(state['status'], state['headers']))
            # none for a HEAD, a 1xx, 204 or 304 (gunicorn sends none):
            # nginx would not read it, and a worker that writes 1 MiB
            # nobody reads is killed
            if not state['bodiless']:
                out.write(data)
            state['body'] += len(data)
            return out

        def start_response(status, headers, exc_info=None):
            if exc_info:
                try:
                    # sent is on the wire: what is only held may go
                    if out.flushed:
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
                out.buf, out.size = [], 0
                state['sent'], state['body'] = False, 0
            elif state['status'] is not None:
                raise AssertionError('start_response() called twice')
            head(status, headers)          # checked now, where the app is
            state['status'], state['headers'] = status, headers
            state['bodiless'] = (method == 'HEAD'
                                 or status[:1] == '1'
                                 or status[:3] in ('204', '304'))
            state['length'] = float('inf')
            for name, value in headers:
                if name.lower() == 'content-length':
                    state['length'] = int(value.strip())   # head() checked
            return lambda data: write(data).flush()

        status, leave, left = 0, None, False

        try:
            result = self.app(env, start_response)
            try:
                # a list is all there is: one send; else each block as
                # the app yields it (PEP 3333: never held back)
                whole = isinstance(result, (list, tuple))
                for data in result:
                    if not isinstance(data, bytes):
                        write(data)             # raises, as PEP 3333 asks
                    if data:
                        # a stream whose client left (looked for once
                        # a block went): no more of it is asked for, and
                        # its close() runs (PEP 3333); the runner would
                        # drop the rest, or kill it past 1 MiB
                        if (not whole and state['body']
                                and self.client_left()):
                            left = True
                            break
                        write(data)
                        if state['bodiless']:
                            # its header is all it has: the rest of
                            # the iterable is not waited for (an endless
                            # stream's HEAD would hold its client)
                            break
                        if not whole:
                            out.flush()
                if not state['sent']:
                    write(b'')
                state['done'] = not left
            finally:
                if hasattr(result, 'close'):
                    # the whole response goes before close() runs (as
                    # gunicorn's): a close() that hangs costs the
                    # client nothing it was given
                    if state['done']:
                        out.flush()
                        out.close_after(result.close)
                    else:
                        result.close()
        except BaseException as e:
            print('faas: %s %s: the application failed:'
                  % (env.get('REQUEST_METHOD'), env.get('REQUEST_URI',
                     env.get('PATH_INFO'))), file=sys.stderr)
            traceback.print_exc()
            sys.stderr.flush()
            status = 1
            if isinstance(e, (SystemExit, KeyboardInterrupt)):
                leave = e
            if left or state['done'] or (state['sent']
                                         and state['body']
                                         >= state['length']):
                # close() failed once the whole body went (or its
                # client left), or the app after all of its
                # Content-Length: the response is whole (gunicorn's
                # too), or nobody's, the failure logged
                status = 0
            elif out.flushed:
                # a response cut short must not look whole: no end of
                # the request, the connection goes with the worker
                out.flush()
                os._exit(1)
            else:
                # nothing went yet: what is held goes for a 500
                out.buf, out.size = [], 0
                out.write(b'Status: 500 Internal Server Error\r\n'
                          b'Content-Type: text/plain\r\n\r\n'
                          b'Internal Server Error\n')

        # what the application did not read: the records are the
        # connection's, the next request comes after them
        while not self.stdin_done and not self.aborted:
            self.stdin = []
            self.next_stdin()

        out.end(status)

        if leave is not None:
            os._exit(1)


def head(status, headers):
    """The CGI header block, checked as PEP 3333 asks; a status without
    its reason is taken (wsgiref's validator warns; gunicorn sends it)."""
    if (not isinstance(status, str) or len(status) < 3
            or not status[:3].isascii() or not status[:3].isdigit()
            or status[3:4] not in ('', ' ')
            or any(ord(c) < 32 or ord(c) == 127 for c in status)):
        raise ValueError('invalid status %r' % (status,))

    lines = ['Status: ' + status]
    length = None

    for name, value in headers:
        # Status is the status line's here: one of the app's would be
        if (not isinstance(name, str) or not isinstance(value, str)
                or not name or any(c not in TOKEN for c in name)
                or name.lower() == 'status'
                or CONTROL.search(value)
                or (name.lower() == 'content-length'
                    and (length is not None
                         or not (value.strip().isascii()
                                 and value.strip().isdigit())))):
            # (a Content-Length of no number, or a second one: the
            # app's error, a 500 as gunicorn's for the first; nginx
            # would refuse either, a 502)
            raise ValueError('invalid header %r' % ((name, value),))
        if name.lower() == 'content-length':
            length = value
        if name.lower() not in HOP_BY_HOP:
            lines.append(name + ': ' + value)

    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


# the Output whose app's close() runs (close_slow answers for it)
closing = None


def close_slow(signum, frame):
    if closing is not None:
        closing.answer()


class Output:
    """STDOUT records; the first ones wait for the end or a big body."""

    def __init__(self, conn, rid):
        self.conn, self.rid = conn, rid
        self.buf, self.size = [], 0
        self.flushed = False        # some of the response is on the wire
        self.answered = False       # its STDOUT ended before close()

    def write(self, data):
        # a record at a time out of a view: a body of 100 MB costs a
        # record's copy more, not three of its own
        view = memoryview(data)
        for i in range(0, len(view), OUT_MAX):
            chunk = view[i:i + OUT_MAX]
            self.buf.append(record(FCGI_STDOUT, self.rid, chunk))
            self.size += len(chunk)

            if self.size >= OUT_MAX:
                self.flush()

    def flush(self):
        if self.buf:
            self.conn.sendall(b''.join(self.buf))
            self.buf, self.size = [], 0
            self.flushed = True

    def close_after(self, close):
        """close() of the app's iterable, the whole response sent: one
        that takes over CLOSE_SLOW seconds ends the response first (the
        end of STDOUT with no END_REQUEST, as faas-php's
        fastcgi_finish_request()), so that its client has it whole at
        once, as gunicorn's has; the worker stays busy, held to its
        timeout, until close() returns. Not while the app keeps SIGALRM
        or ITIMER_REAL for itself: then the end waits for close()."""
        global closing

        if (signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL,
                                                     close_slow)
                or signal.getitimer(signal.ITIMER_REAL)[0]):
            close()
            return

        # ours from now on (a handler put back could meet a signal
        # already delivered): it does nothing while nothing closes
        signal.signal(signal.SIGALRM, close_slow)
        closing = self

        try:
            signal.setitimer(signal.ITIMER_REAL, CLOSE_SLOW)
            close()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            closing = None

    def answer(self):
        """The end of STDOUT: the response is whole."""
        if not self.answered:
            self.answered = True
            self.conn.sendall(record(FCGI_STDOUT, self.rid))

    def end(self, status):
        if not self.answered:
            self.buf.append(record(FCGI_STDOUT, self.rid))
        self.buf.append(record(FCGI_END_REQUEST, self.rid,
                               struct.pack('>IB3x', status, 0)))
        self.flush()


class Input(io.RawIOBase):
    """wsgi.input: the request's STDIN records, read as asked, up to
    its CONTENT_LENGTH."""

    def __init__(self, conn, length):
        self.conn = conn
        self.left = b''
        self.length = length

    def readable(self):
        return True

    def readinto(self, b):
        if self.length <= 0:
            return 0
        if not self.left:
            self.left = self.conn.next_stdin()
        n = min(len(b), len(self.left), self.length)
        self.length -= n
        b[:n] = self.left[:n]
        self.left = self.left[n:]
        return n


if __name__ == '__main__':
    main()
