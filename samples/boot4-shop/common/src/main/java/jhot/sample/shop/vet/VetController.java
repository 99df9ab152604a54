package jhot.sample.shop.vet;

import jhot.sample.shop.vet.VetService.VetView;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ResponseBody;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@code /vets} (a page, with a count per specialty) and {@code /api/vets} (JSON). */
@Controller
public class VetController {
    private final VetService service;

    public VetController(VetService service) {
        this.service = service;
    }

    @GetMapping("/vets")
    public String page(Model model) {
        List<VetView> vets = service.all();
        Map<String, Integer> bySpecialty = new TreeMap<>();
        vets.forEach(v -> v.specialties().forEach(s -> bySpecialty.merge(s, 1, Integer::sum)));
        model.addAttribute("vets", vets);
        model.addAttribute("bySpecialty", bySpecialty);
        return "vets";
    }

    @GetMapping("/api/vets")
    @ResponseBody
    public List<VetView> json() {
        return service.all();
    }
}
