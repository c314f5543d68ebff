// How long `pulumi up` takes for a dependency graph when each resource takes its typical
// provisioning time and the engine starts every resource as soon as all it waits for is done
// (Pulumi's default parallelism does not bind for a graph this small). Pure.

export interface Task {
    id: string;
    /** Seconds the resource takes to provision. */
    seconds: number;
    /** Ids of the tasks it waits for. */
    waitsFor: string[];
}

export interface Schedule {
    /** When everything is done. */
    total: number;
    /** The chain that decides the total, first to last. */
    path: string[];
    finish: Map<string, number>;
}

/** Earliest finish times and the critical path; throws on a cycle or an unknown dependency. */
export function schedule(tasks: Task[]): Schedule {
    const byId = new Map(tasks.map((task) => [task.id, task]));
    const finish = new Map<string, number>();
    const via = new Map<string, string | undefined>();
    const visiting = new Set<string>();
    const finishOf = (id: string): number => {
        const known = finish.get(id);
        if (known !== undefined) return known;
        const task = byId.get(id);
        if (!task) throw new Error(`unknown task ${id}`);
        if (visiting.has(id)) throw new Error(`dependency cycle through ${id}`);
        visiting.add(id);
        let start = 0;
        let latest: string | undefined;
        for (const dependency of task.waitsFor) {
            const done = finishOf(dependency);
            if (latest === undefined || done > start) {
                start = done;
                latest = dependency;
            }
        }
        visiting.delete(id);
        finish.set(id, start + task.seconds);
        via.set(id, latest);
        return start + task.seconds;
    };
    let total = 0;
    let last: string | undefined;
    for (const task of tasks) {
        const done = finishOf(task.id);
        if (last === undefined || done > total) {
            total = done;
            last = task.id;
        }
    }
    const path: string[] = [];
    for (let id = last; id !== undefined; id = via.get(id)) path.unshift(id);
    return { total, path, finish };
}
