import Dispatch
import Synchronization

/// The simulated company and its customers: people, catalog, campaigns and everyone's activity.
struct World: Sendable {
    let params: SynthParameters
    let catalog: Catalog
    let campaigns: [Campaign]
    let people: [Person]
    let activity: [Activity]

    func orders(of person: Int) -> [Order] { activity[person].orders }
    func tickets(of person: Int) -> [Ticket] { activity[person].tickets }
    func crmRows(of person: Int) -> [CRMRow] { activity[person].crm }

    /// Simulates persons `range` (all persons by default), spread over the cores.
    static func build(params: SynthParameters, people: [Person]? = nil) -> World {
        let catalog = Catalog(seed: params.seed)
        let campaigns = Simulation.campaigns(params)
        let people = people ?? Population.make(params: params)
        let activity = parallelMap(count: people.count) { i in
            Simulation.simulate(people[i], catalog: catalog, campaigns: campaigns, params: params)
        }
        return World(params: params, catalog: catalog, campaigns: campaigns, people: people, activity: activity)
    }
}

/// `(0..<count).map(body)` over all cores, in order.
func parallelMap<T: Sendable>(count: Int, grain: Int = 256, _ body: @Sendable (Int) -> T) -> [T] {
    let chunks = (count + grain - 1) / grain
    let results = Mutex([[T]](repeating: [], count: chunks))
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let part = (c * grain..<min(count, (c + 1) * grain)).map(body)
        results.withLock { $0[c] = part }
    }
    return results.withLock { $0.flatMap { $0 } }
}
