"""Default policy rules, one module per resource, gathered for the enforcer and the sample."""

import itertools

from glance.policies import base
from glance.policies import cache
from glance.policies import housekeeping
from glance.policies import image
from glance.policies import image_member
from glance.policies import metadef
from glance.policies import task


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        cache.list_rules(),
        housekeeping.list_rules(),
        image.list_rules(),
        image_member.list_rules(),
        metadef.list_rules(),
        task.list_rules(),
    ))
