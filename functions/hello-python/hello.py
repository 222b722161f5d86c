# A WSGI application (PEP 3333): what Flask, Django or Bottle give you
# as "app"; this one needs nothing but Python.


def application(environ, start_response):
    body = 'Hello from Python, %s %s\n' % (environ['REQUEST_METHOD'],
                                          environ['PATH_INFO'] or '/')
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode()]
