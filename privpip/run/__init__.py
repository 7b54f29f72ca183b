"""Running a tool: the data path (pipeline), each tool's delivery, the child runner, the target
interpreter, pip started ahead."""
