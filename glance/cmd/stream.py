"""glance-stream: streams image data out of the backends, with a local cache."""

from glance.cmd import _server


def main(argv=None):
    _server.main('glance-stream', 'glance-stream', 9293, argv)


if __name__ == '__main__':
    main()
