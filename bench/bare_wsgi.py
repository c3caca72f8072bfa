"""A WSGI app that answers at once, served by the benchmark's gunicorn: the ceiling of the server and the load
generator on this machine, beside which the no-op view's figure shows what Django's stack costs."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
