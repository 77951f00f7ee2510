"""dl-tutor's screens: catalog, lesson, help and dialogs."""
