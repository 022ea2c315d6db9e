"""The BETH process-log schema: column names, their order and their dtypes.

The two column lists students use, :data:`BETH_COLUMNS` and :data:`FEATURE_COLUMNS`, are
lists so that ``df[FEATURE_COLUMNS]`` selects those columns: pandas (2 and 3) reads a tuple
in ``df[...]`` as one column label and raises ``KeyError``. A list can be changed in place
(``cols = FEATURE_COLUMNS; cols += ["evil"]``), so the package itself reads only the tuples
``_BETH_COLUMNS`` and ``_FEATURE_COLUMNS``: whatever a notebook does to the lists, the
package's behaviour stays the same.
"""

from __future__ import annotations

_BETH_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "processId",
    "threadId",
    "parentProcessId",
    "userId",
    "mountNamespace",
    "processName",
    "hostName",
    "eventId",
    "eventName",
    "stackAddresses",
    "argsNum",
    "returnValue",
    "args",
    "sus",
    "evil",
)

#: The 16 columns of a BETH process-log CSV, in the order of the official Kaggle files.
BETH_COLUMNS: list[str] = list(_BETH_COLUMNS)

_FEATURE_COLUMNS: tuple[str, ...] = (
    "processId",
    "parentProcessId",
    "userId",
    "mountNamespace",
    "eventId",
    "argsNum",
    "returnValue",
)

#: The seven features the BETH authors' baselines use, in the order ``preprocess`` returns them.
FEATURE_COLUMNS: list[str] = list(_FEATURE_COLUMNS)

#: Columns read as int64.
INTEGER_COLUMNS: tuple[str, ...] = (
    "processId",
    "threadId",
    "parentProcessId",
    "userId",
    "mountNamespace",
    "eventId",
    "argsNum",
    "returnValue",
    "sus",
    "evil",
)

#: Columns read as float64.
FLOAT_COLUMNS: tuple[str, ...] = ("timestamp",)

#: Text columns: ``object`` on pandas 2, ``str`` on pandas 3.
TEXT_COLUMNS: tuple[str, ...] = (
    "processName",
    "hostName",
    "eventName",
    "stackAddresses",
    "args",
)

#: The two label columns; both hold only 0 and 1.
LABEL_COLUMNS: tuple[str, ...] = ("sus", "evil")

#: The mount namespace of the host's initial (non-container) processes.
HOST_MOUNT_NAMESPACE = 4026531840

#: Process ids the BETH authors treat as the operating system's own (0, 1 and 2).
OS_PROCESS_IDS: tuple[int, ...] = (0, 1, 2)

#: User ids below this are system accounts (the Linux convention the BETH authors use).
FIRST_LOGIN_USER_ID = 1000

#: File names of the three labelled splits in the Kaggle download (katehighnam/beth-dataset).
KAGGLE_SPLITS: dict[str, str] = {
    "training": "labelled_training_data.csv",
    "validation": "labelled_validation_data.csv",
    "testing": "labelled_testing_data.csv",
}
