"""nbgrader settings for the BETH workshop course: only the keys this course needs.

nbgrader reads this file from the course root (where it is run). `beth-course` reads it too,
plus the `BethCourse` and `BethSandbox` sections at the end, which nbgrader ignores.
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

# Put back grade cells a student deleted, so their tests still run (jupyter/nbgrader#1682).
c.OverwriteCells.add_missing_cells = True

# Keep huge outputs (a student printing all of df) out of autograded notebooks and feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

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
