"""Helpers of the import tests: stage, import, follow the task."""

import os

from glance.tests.functional.data import test_data_path


class ImportTest(test_data_path.DataTest):

    def stage(self, image_id, data, expect=204, project=None):
        resp = self.session.put(self.servers.api_url + '/v2/images/%s/stage' % image_id,
                                data=data, headers=self.headers(
                                    project, **{'Content-Type': 'application/octet-stream'}))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def import_(self, image_id, method='glance-direct', expect=202, project=None,
                roles='member,reader', **body):
        body['method'] = dict({'name': method}, **body.pop('method_extra', {}))
        resp = self.session.post(self.servers.api_url + '/v2/images/%s/import' % image_id,
                                 json=body, headers=self.headers(project, roles))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def image_tasks(self, image_id, project=None, roles='member,reader'):
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/tasks' % image_id,
                                headers=self.headers(project, roles))
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['tasks']

    def wait_task(self, image_id, project=None, timeout=60, roles='member,reader',
                  count=1):
        """The image's newest task once the image has ``count`` tasks and all ended.

        (Tasks created within the same second have no order between them: a test that
        starts several looks at them all.)
        """
        final = {}

        def ended():
            tasks = self.image_tasks(image_id, project, roles)
            if len(tasks) >= count and all(t['status'] in ('success', 'failure')
                                           for t in tasks):
                final['task'] = tasks[0]
                return True
            return False
        self.assertTrue(test_data_path.wait_for(ended, timeout), 'the task never ended')
        return final['task']

    def staged(self, image_id):
        return os.path.exists(os.path.join(self.servers.state, 'staging', image_id))

    def stored(self, image_id, store_dir=None):
        return os.path.exists(os.path.join(store_dir or self.servers.store_dir, image_id))
