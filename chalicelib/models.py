"""Every DynamoDB model, for the local bootstrap and the template checks."""
from .accounts.models import Login, School, Throttle, Token, User
from .notify.models import OutboxMessage
from .membership.models import Group, Machine, Membership
from .imports.models import Import, ImportRow
from .core.audit import AuditEntry, Erasure
from .roster.models import Pupil, UniqueKey
from .lifecycle.models import Rollover, RolloverPupil

ALL_MODELS = (School, User, Login, Token, Throttle, OutboxMessage, Pupil, UniqueKey, AuditEntry,
              Import, ImportRow, Group, Membership, Machine, Rollover, RolloverPupil, Erasure)
