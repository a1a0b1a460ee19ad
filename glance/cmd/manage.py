"""glance-manage: database migrations and other operator commands.

Each command group is a class whose public methods are sub-commands; ``add_command_parsers``
turns them into argparse sub-parsers through oslo.config's SubCommandOpt.
"""

import argparse
import collections
import sys
import time

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_db import exception as db_exc
from oslo_log import log as logging

from glance.common import config
from glance.common import exception
from glance.db import api as db_api
from glance.db import migration

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def args(*arguments, **kwargs):
    """Decorator: declare an argparse argument of a sub-command."""
    def _decorate(fn):
        fn.__dict__.setdefault('args', []).insert(0, (arguments, kwargs))
        return fn
    return _decorate


class DbCommands:
    """Create and upgrade the database schema."""

    def sync(self):
        """Apply every migration (expand and contract); a new database gets the catalog.

        The shipped metadata definitions catalog is loaded when this sync created the
        catalog tables (a new database, or one upgraded from before the catalog existed).
        """
        from glance.metadef import catalog
        new_catalog = not migration.has_table('metadef_namespaces')
        migration.sync()
        print('Database is synced successfully.')
        loaded = catalog.load_if_new(new_catalog)
        if loaded:
            print('Loaded %d metadata definition namespaces from %s.'
                  % (len(loaded), catalog.default_path()))

    def version(self):
        """Print the revisions the database is at."""
        heads = sorted(migration.current())
        print(', '.join(heads) if heads else 'None (the database is not versioned)')

    def check(self):
        """Exit 0 if the schema is current, 3 if expand, 4 if migrate, 5 if contract is due."""
        status = migration.check()
        messages = {
            migration.CHECK_OK: 'Database is up to date. No upgrades needed.',
            migration.CHECK_EXPAND: 'Your database is not up to date. Your first step is '
                                    'to run "glance-manage db expand".',
            migration.CHECK_MIGRATE: 'Your database is not up to date. Your next step is '
                                     'to run "glance-manage db migrate".',
            migration.CHECK_CONTRACT: 'Your database is not up to date. Your next step is '
                                      'to run "glance-manage db contract".',
        }
        print(messages[status])
        return status

    def expand(self):
        """Apply the additive (expand) migrations."""
        migration.expand()
        print('Database expansion is up to date.')

    def migrate(self):
        """Run the data migrations between expand and contract."""
        migration.migrate()
        print('Database migration is up to date.')

    def contract(self):
        """Apply the contract migrations (after every service is upgraded)."""
        migration.contract()
        print('Database is up to date. No migrations needed.')

    @args('--path', dest='path', default=None,
          help='Directory of namespace files (.json) to load (default: '
               '[DEFAULT] metadata_source_path or the shipped catalog).')
    @args('--merge', action='store_true',
          help='Merge into namespaces that already exist instead of skipping them: add '
               'what the files add.')
    @args('--prefer_new', '--prefer-new', dest='prefer_new', action='store_true',
          help='With --merge: where a namespace, property, object or association exists '
               'in both, the file\'s version wins.')
    @args('--overwrite', action='store_true',
          help='With --merge: first delete the content of namespaces that exist, so they '
               'end up exactly as the files say.')
    def load_metadefs(self, path=None, merge=False, prefer_new=False, overwrite=False):
        """Load the metadata definitions catalog from JSON files (one per namespace)."""
        from glance.metadef import catalog
        if (prefer_new or overwrite) and not merge:
            print('--prefer_new and --overwrite only apply with --merge.')
            return 1
        result = catalog.load(path, merge=merge, prefer_new=prefer_new, overwrite=overwrite)
        for outcome in ('created', 'merged', 'skipped'):
            for name in result[outcome]:
                print('%s: %s%s' % (name, outcome,
                                    ' (already exists; --merge to merge it)'
                                    if outcome == 'skipped' else ''))
        print('Metadata definitions loaded: %d created, %d merged, %d skipped.'
              % (len(result['created']), len(result['merged']), len(result['skipped'])))
        return 0

    def unload_metadefs(self):
        """Delete every metadata definition namespace and resource type."""
        from glance.metadef import catalog
        catalog.unload()
        print('Metadata definitions unloaded.')
        return 0

    @args('--path', dest='path', default=None,
          help='Directory to write the namespace files to (default: [DEFAULT] '
               'metadata_source_path).')
    def export_metadefs(self, path=None):
        """Write every metadata definition namespace to a JSON file of its own."""
        from glance.metadef import catalog
        written = catalog.export(path)
        print('Exported %d namespaces to %s.' % (len(written), path or catalog.default_path()))
        return 0


class CacheCommands:
    """Operate the glance-stream nodes' image caches ([stream] endpoints, ticket_key)."""

    def list(self):
        """List the cached and queued images of every node."""
        from glance.common import stream_client as client
        if not _stream_configured():
            return 1
        for endpoint, result in sorted(client.call_all('GET', '/cache').items()):
            if result is None or result[0] != 200:
                print('%s: unreachable or without a cache' % endpoint)
                continue
            body = result[1]
            print('%s: %d cached, %d queued, %d filling' % (
                endpoint, len(body['cached_images']), len(body['queued_images']),
                len(body.get('filling_images', []))))
            for entry in body['cached_images']:
                print('  %s  %12d bytes  %5d hits' % (entry['image_id'], entry['size'],
                                                      entry['hits']))
            for image_id in body['queued_images']:
                print('  %s  queued' % image_id)
        return 0

    @args('image_id', help='The image to prefetch.')
    @args('--wait', action='store_true',
          help='Wait until the image is cached, showing the fill\'s progress.')
    @args('--timeout', type=int, default=600,
          help='With --wait: give up (exit 1) after this many seconds (default 600).')
    def queue(self, image_id, wait=False, timeout=600):
        """Queue an image for caching on the node that owns it."""
        from glance.common import stream_client as client
        from glance.common import stream_nodes as nodes
        if not _stream_configured():
            return 1
        # The node queues any id it is given: check here that the image can be cached.
        try:
            image = db_api.image_get(image_id)
        except exception.ImageNotFound:
            print('No image %s: nothing to queue.' % image_id)
            return 1
        if image['status'] != 'active':
            print('Image %s is %s: only active images can be cached.'
                  % (image_id, image['status']))
            return 1
        endpoint = nodes.pick(image_id)
        status, _ = client.call(endpoint, 'PUT', '/cache/%s' % image_id)
        if status != 202:
            print('%s refused: HTTP %s' % (endpoint, status))
            return 1
        print('Queued %s on %s' % (image_id, endpoint))
        return _wait_cached(client, endpoint, image_id, timeout) if wait else 0

    @args('image_id', help='The image to evict.')
    def evict(self, image_id):
        """Evict an image from every node's cache."""
        from glance.common import stream_client as client
        if not _stream_configured():
            return 1
        failed = [e for e, r in client.call_all('DELETE', '/cache/%s' % image_id).items()
                  if r is None or r[0] not in (204, 404)]
        for endpoint in failed:
            print('%s did not evict %s' % (endpoint, image_id))
        return 1 if failed else 0

    def verify(self):
        """Re-verify every cached file of every node now (piece by piece); evict bad ones.

        Exit status 1 if a node found a corrupted file or could not be asked.
        """
        from glance.common import stream_client as client
        status = 0
        for endpoint, result in sorted(client.call_all('POST', '/cache/verify',
                                                       timeout=3600).items()):
            if result is None or result[0] != 200:
                print('%s: %s' % (endpoint, 'unreachable' if result is None else
                                  'HTTP %s %s' % (result[0], (result[1] or {}).get(
                                      'error', ''))))
                status = 1
                continue
            bad = result[1]['bad']
            print('%s: %d checked, %d corrupted and evicted' % (
                endpoint, result[1]['checked'], len(bad)))
            for image_id in bad:
                print('  %s  corrupted: evicted' % image_id)
            status = status or (1 if bad else 0)
        return status

    def prune(self):
        """Evict images (eviction policy order) until each node is within its max_size."""
        from glance.common import stream_client as client
        if not _stream_configured():
            return 1
        for endpoint, result in sorted(client.call_all('POST', '/cache/prune').items()):
            if result is None or result[0] != 200:
                print('%s: unreachable or without a cache' % endpoint)
            else:
                print('%s: evicted %d, %d bytes cached' % (endpoint, result[1]['evicted'],
                                                           result[1]['size']))
        return 0


def _stream_configured():
    """True if [stream] endpoints names a node; else say which option to set."""
    from glance.common import stream_nodes  # noqa: F401  (registers [stream] endpoints)
    if CONF.stream.endpoints:
        return True
    print('No glance-stream node is configured: set [stream] endpoints in %s (the '
          'glance-api configuration file).' % (', '.join(CONF.config_file) or 'the '
                                               'configuration file'))
    return False


def _wait_cached(client, endpoint, image_id, timeout):
    """Show the fill's progress until the image is cached; 1 after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = client.call(endpoint, 'GET', '/cache')
        if status == 200 and body:
            if any(e['image_id'] == image_id for e in body['cached_images']):
                print('\r[%s] cached' % ('#' * 40))
                return 0
            filling = [e for e in body.get('filling_images', [])
                       if e['image_id'] == image_id]
            if filling and filling[0]['size']:
                done = filling[0]['bytes'] / filling[0]['size']
                print('\r[%-40s] %3d%%' % ('#' * int(done * 40), done * 100), end='',
                      flush=True)
        time.sleep(0.5)
    print('\nNot cached after %d s (still queued or filling on %s): see "glance-manage '
          'cache list".' % (timeout, endpoint))
    return 1


class DirectLinkCommands:
    """Keys behind direct links (GET /v2/images/{id}/direct-link)."""

    @args('--store', dest='store', default=None,
          help='The Swift backend whose account key to rotate (default: every Swift '
               'backend).')
    def rotate_key(self, store=None):
        """Set a new Temp-URL key on the Swift account; the old one stays valid as Key-2.

        TempURLs issued with the old key keep working until they expire; run it again only
        after [direct_link] lifetime seconds, or those links stop working.
        """
        from glance.store import links
        swift = [name for name, kind in CONF.enabled_backends.items() if kind == 'swift']
        if store is not None:
            if store not in swift:
                print('%s is not a Swift backend (Swift backends: %s)'
                      % (store, ', '.join(swift) or 'none'))
                return 1
            swift = [store]
        if not swift:
            print('No Swift backend is configured: nothing to rotate.')
            return 1
        for name in swift:
            storage_url = links.rotate_swift_key(name)
            print('Rotated the Temp-URL key of store %s (account %s); the previous key is '
                  'now Temp-URL-Key-2.' % (name, storage_url))
        return 0


class ImageCommands:
    """Operator actions on one image."""

    @args('image_id', help='The image (in pending_delete) to bring back.')
    def restore(self, image_id):
        """Bring back an image deleted with delayed_delete whose data is not scrubbed yet.

        The image becomes active again with the locations the scrubber has not deleted
        (as upstream's "glance-scrubber --restore"). Its members, removed at delete, are
        not restored.
        """
        from glance.db import housekeeping as housekeeping_db
        try:
            image = housekeeping_db.image_restore(image_id)
        except exception.ImageNotFound:
            print('No image %s.' % image_id)
            return 1
        except exception.Conflict as e:
            print('Cannot restore: %s' % e)
            return 1
        LOG.info('Image %s restored from pending_delete', image_id)
        print('Image %s restored: %s, %d location(s).' % (image_id, image['status'],
                                                          len(image['locations'])))
        return 0


class ScrubCommand:
    """Delete now the data of deleted images whose scrub_time has passed (delayed_delete)."""

    single = True

    @args('--wait', type=int, default=60,
          help='Seconds to wait for a scrubber running elsewhere to finish (default 60).')
    def run(self, wait=60):
        """Delete now the data of deleted images whose scrub_time has passed.

        Exit status 1 if the data of an image could not be deleted (it is retried at the
        next run), 2 if another scrubber kept the lease for ``--wait`` seconds.
        """
        from glance.db import housekeeping as housekeeping_db
        from glance.image import recovery
        deadline = time.monotonic() + wait
        while True:
            result = recovery.scrub()
            if result is not None or time.monotonic() >= deadline:
                break
            time.sleep(1)
        if result is None:
            holder = housekeeping_db.lease_holder(recovery.SCRUB_LEASE)
            print('Another scrubber holds the lease (%s): try again later.'
                  % (holder[0] if holder else 'released just now'))
            return 2
        for image_id in result.scrubbed:
            print('scrubbed  %s' % image_id)
        for image_id, reason in result.failed:
            print('FAILED    %s  %s' % (image_id, reason))
        print('%d location(s) scrubbed, %d failed, %d image(s) now deleted.'
              % (len(result.scrubbed), len(result.failed), len(result.deleted_images)))
        return 1 if result.failed else 0


class MetricsCommand:
    """The housekeeping's deployment-wide counters (scrubber, crash recovery, audit)."""

    single = True

    @args('--format', dest='format', choices=('table', 'json'), default='table',
          help='A readable table (default) or JSON, as GET /v2/housekeeping/metrics.')
    def run(self, format='table'):
        """Print every counter of the housekeeping, summed over the deployment."""
        import json

        from glance.image import housekeeping_metrics
        values = housekeeping_metrics.read()
        if format == 'json':
            print(json.dumps(values, indent=2, sort_keys=True))
            return 0
        width = max(len(name) for name in values['counters'])
        for name, value in values['counters'].items():
            print('%-*s  %12d  %s' % (width, name, value, values['updated_at'].get(name, '')))
        return 0


def _since(value):
    """--since: an ISO date/time (UTC), or a number of hours/days ago ("12h", "7d")."""
    import datetime
    units = {'h': 3600, 'd': 86400}
    if value and value[-1] in units and value[:-1].isdigit():
        return (datetime.datetime.utcnow() -
                datetime.timedelta(seconds=int(value[:-1]) * units[value[-1]]))
    when = datetime.datetime.fromisoformat(value)
    if when.tzinfo is not None:  # the database holds naive UTC
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when


class AuditCommand:
    """Compare the database, the stores and the stream caches; report (and repair) drift."""

    single = True

    @args('--verify', action='store_true',
          help='Also read every active image through its glance-stream node, which verifies '
               'its hashes (and caches it): slow, reads every byte.')
    @args('--format', dest='format', choices=('table', 'json'), default='table',
          help='Output: a table (default) or JSON.')
    @args('--store', dest='store', action='append', default=None,
          help='Audit only this store (repeatable; default: every enabled backend).')
    @args('--since', dest='since', default=None,
          help='Only images created or updated, and objects written, since this UTC time '
               '(ISO 8601) or this long ago ("12h", "7d").')
    @args('--sample', dest='sample', type=int, default=None,
          help='Check the objects of N images chosen at random instead of all.')
    @args('--max-rate', dest='max_rate', type=float, default=None,
          help='Most store or stream requests per second (default: no bound).')
    @args('--concurrency', dest='concurrency', type=int, default=None,
          help='Store requests at once (default: [DEFAULT] audit_concurrency).')
    @args('--repair', action='store_true',
          help='Show the repairs for what is found (a dry run unless --yes).')
    @args('--yes', action='store_true',
          help='With --repair: do them (delete orphans older than audit_orphan_grace, '
               'evict stale cache entries, drop dead locations or mark images killed).')
    def run(self, verify=False, format='table', store=None, since=None, sample=None,
            max_rate=None, concurrency=None, repair=False, yes=False):
        """Compare the database, every store and every stream node's cache; report drift.

        Exit status 0 when everything agrees, 1 when drift was found, 2 when a part could
        not be checked (and nothing else was found).
        """
        import json

        from glance.image import audit
        from glance.store import backend
        if yes and not repair:
            print('--yes only applies with --repair.')
            return 2
        backend.configure()
        for name in store or []:
            if name not in CONF.enabled_backends:
                print('No store %s (stores: %s)' % (name, ', '.join(CONF.enabled_backends)))
                return 2
        result = audit.Audit(stores=store, since=_since(since) if since else None,
                             sample=sample, verify=verify, max_rate=max_rate,
                             concurrency=concurrency, progress=sys.stderr).run()
        actions = result.repair(act=yes) if repair else []
        if format == 'json':
            print(json.dumps({
                'findings': [{'class': f.kind, 'image_id': f.image_id, 'store': f.store,
                              'detail': f.detail} for f in result.findings],
                'repairs': [{'class': f.kind, 'image_id': f.image_id, 'action': a,
                             'done': bool(yes)} for a, f in actions],
                'errors': [{'where': w, 'reason': r} for w, r in result.errors],
                'checked': dict(result.checked),
                'seconds': round(result.elapsed, 3)}, indent=2, sort_keys=True))
        else:
            _print_audit(result, actions, yes)
        if result.drift():
            return 1
        return 2 if result.errors else 0


def _print_audit(result, actions, done):
    checked = ', '.join('%d %s' % (n, what) for what, n in sorted(result.checked.items()))
    print('Checked: %s in %.1f s' % (checked or 'nothing', result.elapsed))
    if not result.findings:
        print('No drift found.')
    else:
        rows = [(f.kind, f.image_id or '-', f.store or '-', f.detail)
                for f in sorted(result.findings, key=lambda f: (f.kind, f.image_id or ''))]
        widths = [max(len(r[i]) for r in rows + [('CLASS', 'IMAGE', 'STORE', '')])
                  for i in range(3)]
        print('%-*s  %-*s  %-*s  DETAIL' % (widths[0], 'CLASS', widths[1], 'IMAGE',
                                            widths[2], 'STORE'))
        for row in rows:
            print('%-*s  %-*s  %-*s  %s' % (widths[0], row[0], widths[1], row[1],
                                            widths[2], row[2], row[3]))
        counts = collections.Counter(f.kind for f in result.findings)
        print('Drift: %s' % ', '.join('%d %s' % (n, k) for k, n in sorted(counts.items())))
    for where, reason in result.errors:
        print('NOT CHECKED  %s: %s' % (where, reason))
    if actions:
        print('Repairs%s:' % ('' if done else ' (dry run: add --yes to do them)'))
        for action, f in actions:
            print('  %s  %s: %s' % (f.image_id or '-', f.kind, action))


CATEGORIES = {
    'db': DbCommands,
    'cache': CacheCommands,
    'direct-link': DirectLinkCommands,
    'image': ImageCommands,
    'scrub': ScrubCommand,
    'audit': AuditCommand,
    'metrics': MetricsCommand,
}


def _public_methods(cls):
    return [name for name in dir(cls) if not name.startswith('_')
            and callable(getattr(cls, name)) and name != 'single']


def add_command_parsers(subparsers):
    for category, cls in CATEGORIES.items():
        parser = subparsers.add_parser(category, help=(cls.__doc__ or '').strip())
        if getattr(cls, 'single', False):  # a command without sub-commands: run()
            for args, kwargs in getattr(cls.run, 'args', []):
                parser.add_argument(*args, **kwargs)
            parser.set_defaults(action_fn='run')
            continue
        actions = parser.add_subparsers(dest='action', metavar='<action>')
        actions.required = True
        for name in _public_methods(cls):
            method = getattr(cls, name)
            # db load_metadefs (upstream's spelling) and db load-metadefs both work.
            aliases = [name] if '_' in name else []
            action = actions.add_parser(name.replace('_', '-'), aliases=aliases,
                                        help=(method.__doc__ or '').strip().splitlines()[0])
            for args, kwargs in getattr(method, 'args', []):
                action.add_argument(*args, **kwargs)
            action.set_defaults(action_fn=name)


def argument_parser():
    """glance-manage's command line as a plain argparse parser, for the CLI reference.

    ``main`` parses with oslo.config, which builds the same sub-commands with
    ``add_command_parsers``; doc/source/cli/glance-manage.rst renders this one.
    """
    parser = argparse.ArgumentParser(
        prog='glance-manage',
        description='Operate a glance deployment: its database, its metadata definitions '
                    'catalog, the glance-stream nodes\' caches and direct links.')
    parser.add_argument('--config-file', metavar='PATH', action='append',
                        help='The configuration file glance-api reads (for example '
                             '/etc/glance/glance-api.conf); may be repeated.')
    parser.add_argument('--config-dir', metavar='DIR',
                        help='A directory of .conf files, read after --config-file.')
    parser.add_argument('--debug', '-d', action='store_true',
                        help='Log at debug level (the request id of the command\'s calls '
                             'to glance-stream nodes among it).')
    add_command_parsers(parser.add_subparsers(dest='category', metavar='<category>'))
    return parser


command_opt = cfg.SubCommandOpt('command', title='Commands', help='Available categories',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    try:
        config.parse_args(argv, prog='glance-manage')
        if not CONF.config_file and not CONF.config_dir:
            # Every default would apply: the database would be a new, empty SQLite file
            # under ~/.local/share/glance, not the one the servers use.
            sys.exit('glance-manage: ERROR: no configuration file: pass --config-file with '
                     'the file glance-api reads (for example /etc/glance/glance-api.conf)')
        # Logs go to stderr: stdout is the command's answer (audit --format json).
        CONF.set_default('use_stderr', True)
        config.setup_logging('glance')
        config.ensure_state_path()
    except cfg.Error as e:
        sys.exit('glance-manage: ERROR: %s' % e)
    category = CONF.command.name
    obj = CATEGORIES[category]()
    fn = getattr(obj, CONF.command.action_fn)
    kwargs = {}
    for arguments, options in getattr(fn, 'args', []):
        dest = options.get('dest') or arguments[0].lstrip('-').replace('-', '_')
        kwargs[dest] = getattr(CONF.command, dest)
    # One request id for the whole command: its calls to glance-stream nodes carry it as
    # their global request id (glance.common.http), so the nodes' logs show which command
    # asked; --debug prints it.
    command_context = oslo_context.RequestContext(overwrite=True)
    LOG.debug('glance-manage %s %s: request id %s', category, CONF.command.action_fn,
              command_context.request_id)
    try:
        result = fn(**kwargs)
    except db_exc.DBError as e:
        sys.exit('glance-manage: ERROR: database error: %s'
                 % (getattr(e, 'inner_exception', None) or e))
    except Exception as e:  # an operator command ends with a sentence, not a traceback
        if db_api.is_driver_error(e):
            sys.exit('glance-manage: ERROR: %s' % db_api.driver_problem(e))
        if not isinstance(e, exception.GlanceException):  # an operator mistake: no trace
            LOG.debug('glance-manage %s failed', category, exc_info=True)
        sys.exit('glance-manage: ERROR: %s' % e)
    sys.exit(result if isinstance(result, int) else 0)


__all__ = ['main', 'args', 'db_api']


if __name__ == '__main__':
    main()
