"""The task domain: the Task aggregate, its rules, its errors and its ports."""
