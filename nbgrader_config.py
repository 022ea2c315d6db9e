"""nbgrader settings for the BETH workshop course: only the keys this course needs.

nbgrader reads this file from the course root (where it is run). `beth-course` reads it too,
plus the `BethSandbox` and `BethCollect` sections at the end, which nbgrader ignores.
"""

c = get_config()  # noqa: F821 -- nbgrader provides get_config when it loads this file

# The course's id in the gradebook, feedback and grade exports.
c.CourseDirectory.course_id = "beth-workshop"

# Per-cell time limit (seconds) when nbgrader validates or autogrades a notebook. The UMAP
# cell is the slowest: about 15 s on 2 cores when numba compiles UMAP's code, 2 s once
# compiled; the whole notebook runs in well under a minute. nbgrader 0.9 reads
# Execute.timeout; older releases read ExecutePreprocessor.timeout (jupyter/nbgrader#1463).
c.Execute.timeout = 120
c.ExecutePreprocessor.timeout = 120

# Stop each graded kernel at once when its notebook is done: the default graceful shutdown
# waits about a second per submission for nothing (benchmarks/RESULTS.md).
c.Execute.shutdown_kernel = "immediate"
c.ExecutePreprocessor.shutdown_kernel = "immediate"

# Put back grade cells a student deleted, so their tests still run (jupyter/nbgrader#1682).
c.OverwriteCells.add_missing_cells = True

# Keep huge outputs (a student printing all of df) out of autograded notebooks and feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# Late submissions. The due date is nbgrader's own, in the gradebook (beth-course due
# "2026-12-10 17:00 Europe/London"); a submission's time is the one beth-course collect wrote
# into its timestamp.txt. How late each one is shows in the report and grades.csv whatever
# the penalty. The penalty is nbgrader's: "none" takes nothing off, "zero" scores a late
# notebook 0. beth-course works penalties out from the current scores, hand grades included.
c.LateSubmissionPlugin.penalty_method = "none"
# Or take a share of the score per day late (a started day counts as a day) after a grace
# period, with beth-course's plugin: uncomment these (nbgrader's own autograde then needs
# beth-course installed where it runs).
# c.AssignLatePenalties.plugin_class = "beth_course.late.PercentPerDay"
# c.PercentPerDay.percent = 10
# c.PercentPerDay.grace_minutes = 15

# Feedback from nbgrader's own `nbgrader generate_feedback`, and so from formgrader's
# "Generate Feedback" button, goes through the steps `beth-course feedback` uses: hidden
# tests removed (no page is written for a notebook where hidden-test text survives
# elsewhere), then nothing a student's code displayed or wrote left able to run script, then
# nbgrader's own two steps (scores from the gradebook, CSS). Needs beth-course installed
# where nbgrader runs (pip install -e ".[course]"); without it nbgrader writes no page.
c.GenerateFeedback.preprocessors = [
    "beth_course.hidden_tests.HideHiddenTests",
    "beth_course.inert.MakeInert",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# formgrader renders autograded notebooks with an HTML exporter configured from this file:
# make what it shows the instructor inert too (student script would run in their session).
c.HTMLExporter.preprocessors = ["beth_course.inert.MakeInert"]

# Files never copied between source, release, submitted and autograded folders.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".DS_Store",
]

# data.csv is copied into every student's autograded folder. nbgrader skips files over this
# size (bytes) without failing; 100,000 rows of BETH take about 30 MB.
c.CourseDirectory.max_file_size = 200_000_000

# ---- beth-course only: nbgrader ignores the sections below ----------------------------------

# The autograde sandbox (bubblewrap): limits for each submission (README, "Security model").
# Memory of the whole submission, all its processes together (a cgroup as root, else a
# watchdog), and the address space of each process, so that one allocation past it raises
# MemoryError in the student's cell (the notebook needs under 3G with the default sizes).
c.BethSandbox.memory_limit = "6G"
# What a submission may write in all: its working folder and /tmp share a RAM-backed folder
# of this size, /dev/shm gets a quarter of it (count it in the machine's memory budget).
c.BethSandbox.disk_limit = "1G"
# CPU seconds per process; a process past it is killed (recorded as a dead kernel).
c.BethSandbox.cpu_time_limit = 600
# CPU time a submission may use per second, all its processes together (a cgroup quota, as
# root), so that one submission cannot starve the others graded beside it. 0: no cap.
c.BethSandbox.cpus = 1.0
# Processes per submission: enough for joblib workers, not for a fork bomb.
c.BethSandbox.max_processes = 64
# Largest file a submission may write.
c.BethSandbox.max_file_size = "1G"
# Output a cell, and a whole notebook, may keep in the autograded notebook and feedback;
# the rest is replaced by a note (nbgrader's LimitOutput above counts lines, not bytes).
c.BethSandbox.max_cell_output = "4M"
c.BethSandbox.max_notebook_output = "32M"
# Largest single message the grader takes from a kernel (a DataFrame the checker reads
# included: 100,000 BETH rows are about 5M); a kernel that sends more is disconnected.
c.BethSandbox.max_message = "256M"
# Wall-clock seconds for a whole notebook; cells still unrun then are marked NotRun.
c.BethSandbox.submission_timeout = 900
# Numeric threads per submission; `--workers` defaults to one submission per core.
c.BethSandbox.threads = 1

# How `beth-course collect` maps downloaded files to student ids: preset names (blackboard,
# canvas, moodle, folder: the default, in that order) and regular expressions with a named
# group `student`, tried in order on each file's path inside the download (see
# beth_course/collect/__init__.py). To key Canvas downloads on the name instead of the id:
# c.BethCollect.patterns = [r"^(?P<student>[a-z]+)_(?:LATE_)?\d+_\d+_[^/]*\.ipynb\Z"]
