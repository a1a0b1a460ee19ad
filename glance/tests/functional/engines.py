"""A throwaway database on each engine, for functional tests that must behave alike on all three.

``database_url(engine)`` creates an empty database on the local PostgreSQL or MariaDB test
server (the "openstack_citest" account tools/ensure-databases.sh sets up, as the db-level
tests use) and returns its URL and a function that drops it; for SQLite it returns None, and
ServerFixture uses its own file. A server that is not there raises testtools' skip, with the
reason, as oslo.db's opportunistic fixtures do.
"""

import uuid

import sqlalchemy as sa
import testtools

_ADMIN_URLS = {
    'postgresql': 'postgresql+psycopg2://openstack_citest:openstack_citest@127.0.0.1:5432/'
                  'openstack_citest',
    'mysql': 'mysql+pymysql://openstack_citest:openstack_citest@127.0.0.1:3306/'
             'openstack_citest',
}

ENGINES = ('sqlite', 'postgresql', 'mysql')


def database_url(engine):
    """(url, drop) of a fresh database on ``engine``; (None, no-op) for SQLite."""
    if engine == 'sqlite':
        return None, lambda: None
    admin_url = _ADMIN_URLS[engine]
    name = 'glance_func_%s' % uuid.uuid4().hex[:12]
    try:
        admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % name))
    except sa.exc.OperationalError as e:
        raise testtools.TestCase.skipException('%s is not available: %s'
                                               % (engine, str(e).splitlines()[0]))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        admin.dispose()

    return admin_url.rsplit('/', 1)[0] + '/' + name, drop


class FreshDatabase:
    """A FunctionalTest mixin: the class's servers on a fresh database of its ``engine``.

    The class sets its ``server_kwargs`` before this ``setUpClass`` runs; the database is
    dropped once the servers have stopped (a class cleanup), also when they fail to start.
    """

    engine = 'sqlite'

    @classmethod
    def setUpClass(cls):
        url, drop = database_url(cls.engine)
        cls.addClassCleanup(drop)
        cls.server_kwargs = dict(cls.server_kwargs, connection=url)
        super().setUpClass()


def on_every_engine(cls):
    """Add PostgreSQL and MySQL variants of a FunctionalTest class (``engine`` attribute)."""
    import sys
    module = sys.modules[cls.__module__]
    for engine, suffix in (('postgresql', 'PostgreSQL'), ('mysql', 'MySQL')):
        variant = type(cls.__name__ + suffix, (cls,),
                       {'__module__': cls.__module__, 'engine': engine})
        setattr(module, variant.__name__, variant)
    return cls
