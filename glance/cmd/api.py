"""glance-api: the Images API v2 server."""

from glance.cmd import _server


def main(argv=None):
    _server.main('glance-api', 'glance-api', 9292, argv)


if __name__ == '__main__':
    main()
