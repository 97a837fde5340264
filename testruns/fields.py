"""Model fields of the testruns app."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class OrderedJSONField(models.TextField):
    """JSON kept as text, so objects keep their keys' order on every database.

    PostgreSQL's ``jsonb`` (behind ``JSONField``) stores an object's keys sorted by length: a failing
    row sampled as ``{"system_id": 3, "kind": …}`` would come back with its columns shuffled. Nothing
    queries inside these values, so text loses nothing.
    """

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value) if value else self.get_default()
        return value

    def get_prep_value(self, value):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))
