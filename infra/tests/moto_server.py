"""moto_server, plus two answers moto 5.2 lacks and the AWS provider waits for.

- Application Auto Scaling: the provider reads a scalable target's tags
  after creating it; moto answers ListTagsForResource with a 500, which the
  provider retries for many minutes. Added: TagResource, UntagResource,
  ListTagsForResource (and the Tags of RegisterScalableTarget are kept).
- SQS: moto stores a queue's RedriveAllowPolicy but never returns it, so the
  provider waits for it forever. Added to GetQueueAttributes.

Then it runs moto_server with the same arguments:
`python infra/tests/moto_server.py -H 127.0.0.1 -p PORT`.
"""

import json

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.server import main
from moto.sqs.models import Queue

TAGS: dict[str, dict[str, str]] = {}

_register = ApplicationAutoScalingResponse.register_scalable_target


def register_scalable_target(self):
    out = _register(self)
    TAGS.setdefault(json.loads(out)["ScalableTargetARN"], {}).update(self._get_param("Tags") or {})
    return out


def tag_resource(self):
    TAGS.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
    return "{}"


def untag_resource(self):
    tags = TAGS.get(self._get_param("ResourceARN"), {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


def list_tags_for_resource(self):
    return json.dumps({"Tags": TAGS.get(self._get_param("ResourceARN"), {})})


ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
ApplicationAutoScalingResponse.tag_resource = tag_resource
ApplicationAutoScalingResponse.untag_resource = untag_resource
ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource

_attributes = Queue.attributes


@property
def queue_attributes(self):
    out = _attributes.fget(self)
    if not out.get("RedriveAllowPolicy"):
        out.pop("RedriveAllowPolicy", None)
    return out


Queue.redrive_allow_policy = None
Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
Queue.attributes = queue_attributes

if __name__ == "__main__":
    main()
